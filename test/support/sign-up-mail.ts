// Test helper: a realistic sign-up mail (text and HTML parts, a random code and confirmation link, CRLF lines).

import { randomBytes, randomInt } from 'node:crypto'

export const SIGN_UP_SENDER = 'no-reply@acme.example'

/** A sign-up mail as a real service sends it: text and HTML, a code and a confirmation link, CRLF lines. */
export function signUpMail(to: string, { subject = 'Confirm your Acme account' } = {}) {
  const code = String(randomInt(100_000, 1_000_000))
  const link = `https://accounts.acme.example/verify?token=${randomBytes(12).toString('hex')}`
  const messageId = `<${randomBytes(8).toString('hex')}@acme.example>`
  const boundary = `b-${randomBytes(6).toString('hex')}`
  const raw = [
    `From: Acme Accounts <${SIGN_UP_SENDER}>`,
    `To: <${to}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Welcome to Acme!',
    '',
    `Your verification code is ${code}. It expires in 10 minutes.`,
    '',
    'Or confirm your address with this link:',
    link,
    '',
    'If you did not sign up for Acme, you can ignore this email.',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><h1>Welcome to Acme!</h1>',
    `<p>Your verification code is <strong>${code}</strong>. It expires in 10 minutes.</p>`,
    `<p><a href="${link}">Confirm my email address</a></p>`,
    '<p>If you did not sign up for Acme, you can ignore this email.</p></body></html>',
    `--${boundary}--`,
    '',
  ].join('\r\n')
  return { code, link, subject, messageId, raw: new TextEncoder().encode(raw) }
}
