// One-time code and verification link extraction: ranked candidates with reasons, web standards only.

/** Bodies are cut to this many characters before scanning: codes sit near the top, and it bounds the regex work. */
export const MAX_SCAN_CHARS = 100_000
/** A candidate below this confidence is listed but not reported: a wrong code is worse than none. */
export const MIN_CONFIDENCE = 0.5

export interface ExtractInput {
  subject: string | null
  text: string | null
  html: string | null
}

export interface Candidate {
  value: string
  confidence: number
  reasons: string[]
}

export interface Extraction {
  otp: string | null
  link: string | null
  otpCandidates: Candidate[]
  linkCandidates: Candidate[]
}

// Words that announce a one-time code, in the languages we read. Lower case; matched as substrings.
const CODE_WORDS = [
  // Turkish adds its suffixes to the word itself: kodunuz (your code), kodu.
  'kodunuz',
  'kodu',
  'code',
  'otp',
  'passcode',
  'pin',
  'one-time',
  'one time',
  'verification',
  'security code',
  'bestätigungscode',
  'sicherheitscode',
  'einmalcode',
  'kennwort',
  'código',
  'codigo',
  'codice',
  'verificatiecode',
  'код',
  'kod',
  'doğrulama',
  'dogrulama',
  '验证码',
  '驗證碼',
  '校验码',
  '动态码',
  '確認コード',
  '認証コード',
  'コード',
  '인증 코드',
  '인증코드',
  '인증번호',
  '코드',
  'ワンタイム',
  'パスコード',
  'mã',
  // Arabic, Polish, Swedish.
  'رمز',
  'الرمز',
  'كود',
  'kod weryfikacyjny',
  'engångskod',
  'verifieringskod',
]

// Context that marks a number as something other than a one-time code.
const NOT_CODE_WORDS = [
  'order',
  'invoice',
  'tracking',
  'track',
  'ticket',
  'booking',
  'reference',
  'ref.',
  'ref:',
  'phone',
  'tel',
  'fax',
  'call',
  'zip',
  'postal',
  'postcode',
  'account no',
  'account number',
  'customer no',
  'customer number',
  'iban',
  'flight',
  'seat',
  'gate',
  'room',
  'bestellung',
  'rechnung',
  'sendung',
  'commande',
  'facture',
  'pedido',
  'factura',
  'ordine',
  'fattura',
  'bestelling',
  'factuur',
  'заказ',
  'sipariş',
  'siparis',
  '订单',
  '注文',
  '주문',
  'discount',
  'coupon',
  'promo',
  'voucher',
  'rabatt',
  'gutschein',
  'réduction',
  'descuento',
  'cupón',
  'sconto',
  'korting',
  'скидк',
  'indirim',
  '折扣',
  '優惠',
  '割引',
  '할인',
  'off',
  'sale',
  'save',
  'gift card',
  'postbus',
  'p.o. box',
  'po box',
  'postal code',
  'zip code',
  'code postal',
  'postleitzahl',
  'plz',
  'código postal',
  'codice postale',
  'cap',
  'promo code',
  'code promo',
  'discount code',
  'coupon code',
  'codice sconto',
  'código promocional',
  'authorization code',
  'auth code',
  'approval code',
  'booking code',
  'codice prenotazione',
  'codice di prenotazione',
  'pnr',
  'código de reserva',
  'code de réservation',
  'buchungscode',
  'meeting id',
  'request id',
  'индекс',
  'почтовый',
  'posta kodu',
  '邮编',
  '郵便番号',
  '우편번호',
  'sort code',
  'bank code',
  'bankleitzahl',
  'blz',
  'routing',
  'swift',
  'ending',
  'ending in',
  'endet auf',
  'last four',
  'patient id',
  'patient number',
  'paziente',
  'member',
  'membership',
  'kundennummer',
  'confirmation number',
]

const findCodeWord = wordMatcher(CODE_WORDS, ['code', 'kod'])
const findNotCodeWord = wordMatcher(NOT_CODE_WORDS)
// "Use 905317 to sign in": what the number is for, said after it.
const findPurposeWord = wordMatcher([
  'to sign in',
  'to log in',
  'to verify',
  'to confirm',
  'para iniciar sesión',
  'para verificar',
  'pour vous connecter',
  'zum anmelden',
  'per accedere',
  'om in te loggen',
  'para entrar',
  'для входа',
  'giriş yapmak için',
])

const LINK_GOOD_WORDS = [
  'verify',
  'verif',
  'confirm',
  'activate',
  'activation',
  'validate',
  'magic',
  'reset',
  'bestätig',
  'bestaetig',
  'aktivier',
  'zurücksetzen',
  'vérifi',
  'confirmer',
  'réinitialiser',
  'reinitialis',
  'confirmar',
  'verificar',
  'restablecer',
  'redefinir',
  'confermare',
  'conferma',
  'verifica',
  'reimposta',
  'bevestig',
  'herstel',
  'подтверд',
  'сброс',
  'восстанов',
  'doğrula',
  'dogrula',
  'onayla',
  'sifirla',
  'sıfırla',
  '验证',
  '认证',
  '重置',
  '認証',
  '인증',
  '재설정',
  'token',
  'bekräfta',
  'bekrafta',
  'verifiera',
  'potwierdź',
  'potwierdz',
  'aktywuj',
  'تأكيد',
  'تفعيل',
  'メールアドレスの確認',
  '이메일 확인',
]
// Words that fit a sign-in or password link but also a settings page: they count for less.
const LINK_WEAK_WORDS = [
  'sign in',
  'sign-in',
  'signin',
  'log in',
  'login',
  'password',
  'passwort',
  'anmelden',
  'connexion',
  'mot-de-passe',
  'mot de passe',
  'iniciar sesión',
  'contraseña',
  'contrasena',
  'senha',
  'accedi',
  'inloggen',
  'wachtwoord',
  'войти',
  'пароль',
  'giriş',
  'şifre',
  'sifre',
  '登录',
  '登入',
  'ログイン',
  '로그인',
  '비밀번호',
  '確認',
  '확인',
  'logga in',
  'zaloguj',
  'hasło',
  'lösenord',
  'تحقق',
]
const LINK_BAD_WORDS = [
  'unsubscribe',
  'abmelden',
  'désinscri',
  'desuscrib',
  'cancelar suscripción',
  'annulla iscrizione',
  'afmelden',
  'отписат',
  'privacy',
  'datenschutz',
  'terms',
  'legal',
  'help',
  'support',
  'faq',
  'preferences',
  'settings',
  'view in browser',
  'view online',
  'im browser',
  'contact',
  'impressum',
  'facebook',
  'twitter',
  'x.com',
  'linkedin',
  'instagram',
  'youtube',
  'tiktok',
  'app store',
  'google play',
  'blog',
  'careers',
  // Pages about a purchase or an account, not a verification step.
  'reservation',
  'statement',
  'invoice',
  'receipt',
  '/orders',
]

const NUMBER_CANDIDATE =
  /(?<![\p{L}\p{N}$€£¥#./:,=&?_@%+-])(\d{2,4}(?:[ -]\d{2,4}){1,3}|\d{4,8})(?![\p{N}%]|[.,:/-]\d|\s?(?:%|€|\$|£|¥|usd|eur))/giu
const ALNUM_CANDIDATE =
  /(?<![\p{L}\p{N}-])([A-Z0-9]{3,4}-[A-Z0-9]{3,4}|[A-Z0-9]{6,8})(?![\p{L}\p{N}]|-[A-Z0-9])/gu
const YEAR = /^(19|20)\d{2}$/
/** YYYYMMDD or DDMMYYYY: eight digits that are a date, not a code. */
const DATE_8 =
  /^(?:(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2})$/
const URL_IN_TEXT = /https?:\/\/[^\s<>"')\]]+/gi

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  '#39': "'",
}

function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (whole, name: string) => {
    const lower = name.toLowerCase()
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16))
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)))
    return ENTITIES[lower] ?? whole
  })
}

/**
 * HTML to scannable text. Cells and inline elements holding one character each (a code drawn
 * one digit per <td> or <span>) are joined, block elements become line breaks.
 */
export function htmlToText(html: string): string {
  let out = html.slice(0, MAX_SCAN_CHARS)
  out = out.replace(/<(script|style|head|title)[\s\S]*?<\/\1>/gi, ' ')
  out = out.replace(/<!--[\s\S]*?-->/g, ' ')
  // Spacer cells between the digit cells of a code are empty: drop them first.
  out = out.replace(/<(td|span|div)\b[^>]*>(?:\s|&nbsp;)*<\/\1>/gi, '')
  // One character per cell/span, adjacent: glue them so "4 8 2 9 1 3" in a table reads 482913.
  out = out.replace(
    /((?:<(?:td|span|div|b|strong)\b[^>]*>\s*[A-Z0-9]\s*<\/(?:td|span|div|b|strong)>\s*){4,8})/gi,
    (run) => ` ${run.replace(/<[^>]+>|\s+/g, '')} `,
  )
  out = out.replace(/<br\s*\/?>|<\/(p|div|tr|li|h[1-6]|table|td|th)>/gi, '\n')
  out = out.replace(/<[^>]+>/g, ' ')
  return decodeEntities(out).replace(/[ \t\u00a0]+/g, ' ')
}

function normalizeCode(raw: string): string {
  return /[A-Z]/.test(raw) ? raw : raw.replace(/[ -]/g, '')
}

function includesAny(haystack: string, words: readonly string[]): string | null {
  for (const word of words) if (haystack.includes(word)) return word
  return null
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * A matcher for whole words: Latin-script words must stand alone (so "pin" does not fire in
 * "shipping", nor "tel" in "hotel"); stems in other scripts match inside longer words.
 */
function wordMatcher(
  words: readonly string[],
  compoundHeads: readonly string[] = [],
): (text: string) => string | null {
  const pattern = new RegExp(
    words
      .map((word) => {
        if (!/^[a-z][a-z .:-]*$/.test(word)) return escapeRegExp(word)
        // German and Dutch build compounds (Anmeldecode, inlogcode): these may end a longer word.
        const start = compoundHeads.includes(word) ? '' : '(?<!\\p{L})'
        return `${start}${escapeRegExp(word)}(?:s|es)?(?!\\p{L})`
      })
      .join('|'),
    'iu',
  )
  return (text) => pattern.exec(text)?.[0] ?? null
}

function scoreCode(
  text: string,
  index: number,
  raw: string,
  inSubject: boolean,
  settled: boolean,
): Candidate | null {
  const value = normalizeCode(raw)
  const digits = value.replace(/\D/g, '').length
  const isNumeric = /^\d+$/.test(value)
  if (isNumeric && (value.length < 4 || value.length > 8)) return null
  if (!isNumeric && (digits === 0 || !/[A-Z]/.test(value))) return null
  // Context is read within the candidate's own line; a code standing alone on its line (or
  // ending one) takes the lines around it too, as in "Your code:\n\n482913".
  // Only CONTEXT_CHARS either side are read: a line longer than that is clipped, and its candidate is
  // not alone on it.
  const windowStart = Math.max(0, index - CONTEXT_CHARS)
  const newlineBefore = text.slice(windowStart, index).lastIndexOf('\n')
  const lineStart = newlineBefore === -1 ? windowStart : windowStart + newlineBefore + 1
  const clippedBefore = newlineBefore === -1 && windowStart > 0
  const valueEnd = index + raw.length
  const newlineAfter = text.slice(valueEnd, valueEnd + CONTEXT_CHARS).indexOf('\n')
  const lineEnd =
    newlineAfter === -1 ? Math.min(text.length, valueEnd + CONTEXT_CHARS) : valueEnd + newlineAfter
  const clippedAfter = newlineAfter === -1 && lineEnd < text.length
  const prefix = text.slice(lineStart, index)
  const suffix = text.slice(valueEnd, lineEnd)
  const alone =
    !clippedBefore && !clippedAfter && prefix.trim() === '' && suffix.trim().replace(/[.!。]$/, '') === ''
  const previousLine = clippedBefore ? '' : lineBefore(text, lineStart)
  const nextLine = clippedAfter ? '' : lineAfter(text, lineEnd)
  const before = (prefix.trim() === '' ? `${previousLine} ${prefix}` : prefix).slice(-80).toLowerCase()
  // A value on its own line is labelled by the line above when that line ends in a colon ("Booking code:")
  // or is a short label, as a table's label cell is ("Sort code" | "40-12-76").
  const labelLine = previousLine.trim()
  const label =
    prefix.trim() === '' && (/[:：]$/.test(labelLine) || labelLine.length <= 30) ? `${labelLine} ` : ''
  const near = `${label}${prefix}`.slice(-25).toLowerCase()
  const after = suffix.slice(0, 25).toLowerCase()
  const reasons: string[] = []
  let score = 0.2
  const keyword = findCodeWord(before)
  if (keyword) {
    score += 0.45
    reasons.push(`after "${keyword}"`)
    if (findCodeWord(near)) score += 0.15
  } else {
    const afterText = (alone ? `${suffix} ${nextLine}` : suffix).slice(0, 80).toLowerCase()
    const following = findCodeWord(afterText) ?? findPurposeWord(afterText)
    if (following) {
      score += 0.3
      reasons.push(`before "${following}"`)
    } else if (inSubject) score += 0.1
  }
  if (alone) {
    score += 0.2
    reasons.push('alone on its line')
  }
  const unit =
    /^\s?(minute|min\b|minuten|minutos|minuti|minuut|минут|dakika|分钟|分間|分|분|hour|stunde|heure|hora|ora|uur|час|saat|小时|時間|시간|day|tag|jour|día|dia|giorn|dag|дн|gün|天|日|일|second|sekunde|seconde|segundo|secondi|секунд|saniye|秒|초)/
  const bad = findNotCodeWord(near) ?? findNotCodeWord(after) ?? (unit.test(after) ? 'a time unit' : null)
  if (bad) {
    score -= 0.6
    reasons.push(`near "${bad}"`)
  }
  if (isNumeric && value.length === 8 && DATE_8.test(value)) {
    score -= 0.6
    reasons.push('looks like a date')
  }
  if (isNumeric && YEAR.test(value) && !findCodeWord(near)) {
    score -= 0.5
    reasons.push('looks like a year')
  }
  if (!isNumeric && !/\d.*[A-Z]|[A-Z].*\d/.test(value)) score -= 0.3
  if (!isNumeric && /^[A-Z]+\d{1,2}$/.test(value)) {
    score -= 0.6 // SAVE20, SPRING25: word plus a number is a promotion, not a code
    reasons.push('word plus number')
  }
  // A "confirmation code" in mail that reports something done ("Reservation confirmed") is the
  // booking's reference, kept for later; a one-time code comes with a request to act now.
  if (
    settled &&
    /confirmation|bestätigung|confirmación|confirmação|conferma|bevestiging|подтверждени/.test(before)
  ) {
    score -= 0.6
    reasons.push('a reference in a confirmation')
  }
  if (inSubject) reasons.push('in the subject')
  return { value, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}

/** Subjects that report a finished transaction rather than ask for an action. */
const SETTLED_SUBJECT =
  /\b(confirmed|booked|bestätigt|confirmée?|confirmad[oa]|confermat[oa]|bevestigd)\b|подтвержд[её]н[аоы]?(?![а-яё])|予約確定|예약 확정/i

/**
 * Characters of context read on each side of a candidate (labels and units sit close by). Reading
 * whole lines, or splitting the text before each candidate, made scoring quadratic: 5,000 numbered
 * parts took a second, one 100,000-character line of numbers 120 ms.
 */
const CONTEXT_CHARS = 200
const WHITESPACE = /\s/

/** The last non-blank line before `lineStart`, at most CONTEXT_CHARS of it. */
function lineBefore(text: string, lineStart: number): string {
  let end = Math.max(0, lineStart - 1)
  const stop = Math.max(0, end - CONTEXT_CHARS)
  while (end > stop && WHITESPACE.test(text[end - 1] as string)) end--
  const window = text.slice(Math.max(0, end - CONTEXT_CHARS), end)
  return window.slice(window.lastIndexOf('\n') + 1)
}

/** The first non-blank line after the line ending at `lineEnd`, at most CONTEXT_CHARS of it. */
function lineAfter(text: string, lineEnd: number): string {
  let start = lineEnd + 1
  const stop = Math.min(text.length, start + CONTEXT_CHARS)
  while (start < stop && WHITESPACE.test(text[start] as string)) start++
  const window = text.slice(start, start + CONTEXT_CHARS)
  const end = window.indexOf('\n')
  return end === -1 ? window : window.slice(0, end)
}

/**
 * Matches of each candidate pattern scored per text. A code sits among the first few numbers of a
 * message; a body of nothing but numbers (a 10 MB log) would otherwise cost 12 µs for each of them.
 */
export const MAX_CODE_MATCHES = 300

function codeCandidates(text: string, inSubject: boolean, settled: boolean): Candidate[] {
  const found: Candidate[] = []
  for (const pattern of [NUMBER_CANDIDATE, ALNUM_CANDIDATE]) {
    let matches = 0
    for (const match of text.matchAll(pattern)) {
      if (++matches > MAX_CODE_MATCHES) break
      const candidate = scoreCode(text, match.index ?? 0, match[1] as string, inSubject, settled)
      if (candidate) found.push(candidate)
    }
  }
  return found
}

interface RawLink {
  url: string
  label: string
}

function linksOf(input: ExtractInput): RawLink[] {
  const links: RawLink[] = []
  if (input.html) {
    const html = input.html.slice(0, MAX_SCAN_CHARS)
    for (const match of html.matchAll(/<a\b[^>]*?\bhref\s*=\s*(["'])(.*?)\1[^>]*>([\s\S]*?)<\/a>/gi)) {
      const url = decodeEntities((match[2] as string).trim())
      const inner = match[3] as string
      const alt = /\balt\s*=\s*["']([^"']*)/i.exec(inner)?.[1] ?? ''
      links.push({ url, label: `${htmlToText(inner)} ${alt}`.trim() })
    }
  }
  if (input.text) {
    const text = input.text.slice(0, MAX_SCAN_CHARS)
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const index = match.index ?? 0
      const lineStart = text.lastIndexOf('\n', Math.max(0, index - 2)) + 1
      links.push({
        url: decodeEntities(match[0]).replace(/[.,;:!?]+$/, ''),
        label: text.slice(Math.max(lineStart - 120, 0), index),
      })
    }
  }
  return links.filter((link) => /^https?:\/\//i.test(link.url))
}

function scoreLink(link: RawLink): Candidate {
  let decodedUrl = link.url
  try {
    decodedUrl = decodeURIComponent(link.url)
  } catch {}
  const url = decodedUrl.toLowerCase()
  const label = link.label.toLowerCase()
  const reasons: string[] = []
  let score = 0.1
  // A strong word (verify, confirm, reset) counts more than a weak one (sign in, password).
  const weigh = (text: string, strongWeight: number, describe: (word: string) => string): string | null => {
    const strong = includesAny(text, LINK_GOOD_WORDS)
    const word = strong ?? includesAny(text, LINK_WEAK_WORDS)
    if (!word) return null
    score += strong ? strongWeight : 0.2
    reasons.push(describe(word))
    return strong
  }
  weigh(url, 0.4, (word) => `URL has "${word}"`)
  const inLabel = weigh(label, 0.45, (word) => `text says "${word}"`)
  if (
    /[?&](token|code|key|t|sig|signature|otp|hash)=[^&]{8,}/i.test(link.url) ||
    /\/[A-Za-z0-9_-]{24,}/.test(link.url)
  ) {
    score += 0.15
    reasons.push('carries a token')
  }
  const badUrl = includesAny(url, LINK_BAD_WORDS)
  const badLabel = includesAny(label.slice(-60), LINK_BAD_WORDS)
  if (badUrl) {
    score -= 0.6
    reasons.push(`URL has "${badUrl}"`)
  }
  if (badLabel && !inLabel) {
    score -= 0.4
    reasons.push(`text says "${badLabel}"`)
  }
  if (/\.(png|jpe?g|gif|svg|webp)(\?|$)/i.test(link.url)) {
    score -= 0.6
    reasons.push('an image')
  }
  return { value: link.url, confidence: Math.max(0, Math.min(1, Number(score.toFixed(2)))), reasons }
}

/**
 * One entry per value: its best-scoring occurrence, except that a warning seen at any occurrence
 * counts (text and HTML parts show the same number with different context, e.g. "Sort code: 40-12-76"
 * in one and a bare table cell in the other).
 */
function rank(candidates: Candidate[]): Candidate[] {
  const best = new Map<string, Candidate>()
  const warned = new Map<string, string>()
  for (const candidate of candidates) {
    const seen = best.get(candidate.value)
    if (!seen || candidate.confidence > seen.confidence) best.set(candidate.value, candidate)
    const warning = candidate.reasons.find((reason) => reason.startsWith('near '))
    if (warning) warned.set(candidate.value, warning)
  }
  return [...best.values()]
    .map((candidate) => {
      const warning = warned.get(candidate.value)
      if (!warning || candidate.reasons.includes(warning)) return candidate
      return {
        value: candidate.value,
        confidence: Math.max(0, Number((candidate.confidence - 0.6).toFixed(2))),
        reasons: [...candidate.reasons, `elsewhere ${warning}`],
      }
    })
    .sort((a, b) => b.confidence - a.confidence)
}

/** Finds the one-time code and the verification link of a message, with the ranked candidates. */
export function extractOtpAndLink(input: ExtractInput): Extraction {
  const settled = SETTLED_SUBJECT.test(input.subject ?? '')
  const bodyText = [
    input.text?.slice(0, MAX_SCAN_CHARS) ?? '',
    input.html ? htmlToText(input.html) : '',
  ].join('\n')
  const otpCandidates = rank([
    ...codeCandidates(input.subject ?? '', true, settled),
    ...codeCandidates(bodyText, false, settled),
  ])
  const linkCandidates = rank(linksOf(input).map(scoreLink))
  const top = (list: Candidate[]) => {
    const first = list[0]
    return first && first.confidence >= MIN_CONFIDENCE ? first.value : null
  }
  return { otp: top(otpCandidates), link: top(linkCandidates), otpCandidates, linkCandidates }
}
