// The mail's purpose, read before any candidate: does it ask for a code, for a click, or only report something?

import {
  findCodeWord,
  findNotCodeWord,
  findOneTimeCodeWord,
  LINK_WEAK_WORDS,
  prefixMatcher,
  prefixPosition,
  substringMatcher,
} from './lexicon.ts'

/** What a mail asks of its reader; each field is the word that decided it (for the reasons), or null. */
export interface Purpose {
  /** The mail asks the reader to type a code ("enter this code", a code word in the subject). */
  asksCode: string | null
  /** The mail asks to reset a password (its link may then be the reset link). */
  reset: string | null
  /** The mail only reports something: a changed password, an order, a parcel, a booking, a meeting. */
  notice: string | null
  /**
   * The mail asks the reader to click a link that expires or works once ("tap below to sign in; the link
   * expires in 20 minutes"), or names the link in its subject ("Your sign-in link"): a one-time step, as a
   * code is. A welcome mail's "click here to log in" is not.
   */
  asksClick: string | null
  /**
   * The mail asks first to click a link that expires and offers a code as the other way ("Tap the button
   * below to sign in ... Or enter this code"): its sign-in link is the one-click step. A click asked after
   * the code ("Enter 482913 ... Not you? Click here") is not.
   */
  clickFirst: string | null
  /**
   * The mail asks to click or tap something in its opening, names a link or one that expires there, or its
   * subject names a sign-in ("Sign in to Acme", "Увійти в Робочас"): a sign-in link may be its step. A
   * notice's "Log in to view it" is not.
   */
  readonly asksSignIn: string | null
}

/** How much of the body's opening is read for the purpose: the request sits above the footers. */
const OPENING_CHARS = 700
const URL_IN_OPENING = /https?:\/\/\S+/g

// A password that has been changed: the mail reports it, whatever links it offers to undo it.
// Round 17 (lexicon audit): password in German (Kennwort), Portuguese, Danish, Norwegian, Icelandic, Croatian and Serbian Latin, Romanian, Latvian, Estonian, Arabic, Persian, Gujarati, Tamil, Telugu, Catalan, Basque, Galician, Somali.
const PASSWORD_WORD =
  /password|passwort|mot de passe|contraseña|senha|wachtwoord|пароль|hasło|haslo|lösenord|şifre|parola|heslo|パスワード|비밀번호|密码|密碼|סיסמ|كلمة المرور|पासवर्ड|รหัสผ่าน|kata sandi|mật khẩu|κωδικ|salasana|jelsz|nenosiri|kata laluan|رمز عبور|পাসওয়ার্ড|პაროლ|лозинк|парола|құпиясөз|գաղտնաբառ|şifrə|የይለፍ ቃል|geslo|slaptažod|fjalëkalim|پاس ورڈ|kennwort|palavra-passe|adgangskode|passord|lykilorð|lozink|parolă|parole|parool|كلمة السر|گذرواژه|પાસવર્ડ|கடவுச்சொல்|పాస్‌వర్డ్|పాస్వర్డ్|contrasenya|pasahitz|contrasinal|furaha sirta/
// Round 17 (lexicon audit): changed in French, Spanish, Italian, Dutch, Danish, Norwegian, Icelandic, Slovak, Serbian and Macedonian Cyrillic, Bulgarian, Russian, Estonian, Latvian, Turkish, Arabic, Hindi, Gujarati, Marathi, Tamil, Telugu, Indonesian, Somali, Catalan, Basque, Galician, Maltese.
const CHANGED_WORD =
  /\b(?:was|has been|have been|got) (?:changed|updated|reset)\b|\bpassword changed\b|geändert|a été modifié|modifiée?\b|(?:ha sido|fue) (?:cambiad|modificad|restablecid)|(?:foi|foram) (?:alterad|redefinid)|è stata (?:modificat|cambiat)|is gewijzigd|изменён|изменен|змінено|зміне|zostało zmienione|zmieniono|har ändrats|ändrades|değiştirildi|変更されました|変更完了|변경되었|已更改|已修改|已變更|已变更|שונתה|שונה|تم تغيير|बदल दिया|बदला गया|เปลี่ยนแล้ว|ถูกเปลี่ยน|telah diubah|đã được thay đổi|đã thay đổi|byl[oa]? změněn|άλλαξε|αλλάχθηκε|on vaihdettu|vaihdettiin|megváltozott|módosult|megváltoztatt|a fost (?:schimbat|modificat|resetat)|imebadilishwa|telah ditukar|napalitan|binago|تغییر (?:کرد|یافت)|পরিবর্তন করা হয়েছে|পরিবর্তিত|შეიცვალა|შეცვლილია|промен(?:ет|ј)ен|променен|өзгертілді|փոխվել է|dəyişdirildi|o['ʻ‘]zgartirildi|ተቀይሯል|spremenjen|promijenjen|promenjen|(?<!ne)pakeistas|ndryshua|تبدیل کر دیا گیا|a été changé|se ha cambiado|se cambió|ha sido actualizad|è stata aggiornat|is veranderd|er (?:blevet )?ændret|blev ændret|er (?:blitt )?endret|ble endret|verið breytt|(?<!ne)zmenen|промењен|промијењен|променет|сменен|сменён|on muudetud|muudeti|(?:ir|tika) (?:no)?mainīt|güncellendi|تم تحديث|बदल गया|બદલાઈ|બદલવામાં આવ્યો|बदलला|மாற்றப்பட்டது|మార్చబడింది|berhasil diubah|la beddelay|ha estat (?:canviad|modificad)|s'ha canviat|aldatu da|foi cambiad|inbidlet/

// Subjects of mail that reports a purchase, a delivery, a booking or a meeting: nothing to type or click.
const NOTICE_SUBJECT_WORDS = [
  // Round 17: a Lithuanian parcel in a locker ("Jūsų siunta jau paštomate"), a Vietnamese room booking ("Xác nhận đặt
  // phòng"), an Albanian form's new submission ("Paraqitje e re").
  'siunta',
  'siuntinys',
  'paštomat',
  'đặt phòng',
  'paraqitje e re',
  // Round 19: a mobile-money receipt in Swahili ("Umetuma Ksh 2,500.00": you have sent; "umepokea": received).
  'umetuma',
  'umepokea',
  // Round 18: an exam's admit card or hall ticket is released: a notice with a centre code and a roll number.
  'admit card',
  'hall ticket',
  'प्रवेश पत्र',
  // A new message waiting in a portal's mailbox ("U heeft een nieuw bericht in uw Berichtenbox"): log in to read it.
  'new message',
  'nieuw bericht',
  'neue nachricht',
  'nouveau message',
  'nuevo mensaje',
  'nuovo messaggio',
  'nova mensagem',
  'nytt meddelande',
  'ny besked',
  'ny melding',
  'nowa wiadomość',
  'nová zpráva',
  'новое сообщение',
  'нове повідомлення',
  'yeni mesaj',
  // Round 17: summaries and statements ("Your week in motion", "Ihr Punkteauszug für März"): a report, not a request.
  'your week',
  'weekly',
  'week in review',
  'digest',
  'recap',
  'summary',
  'statement',
  'kontoauszug',
  'punkteauszug',
  'wochenrückblick',
  'relevé',
  'resumen semanal',
  'extracto',
  'riepilogo',
  'estratto conto',
  'weekoverzicht',
  'veckosammanfattning',
  'выписка',
  'дайджест',
  'wyciąg',
  'podsumowanie',
  'hesap özeti',
  // Orders, receipts, invoices, deliveries.
  'order',
  'receipt',
  'invoice',
  'shipped',
  'delivered',
  'on the way',
  'your package',
  'bestellung',
  'bestellbestätigung',
  'rechnung',
  'sendung',
  'paket',
  'commande',
  'facture',
  'colis',
  'pedido',
  'recibo',
  'factura',
  'envío',
  'ordine',
  'fattura',
  'spedizione',
  'bestelling',
  'pakket',
  'orderbekräftelse',
  'заказ',
  'замовлення',
  'посылк',
  'zamówieni',
  'objednávk',
  'sipariş',
  'kargo',
  'παραγγελ',
  '注文',
  // Round 15: an e-invoice issued, in Vietnamese (not "hóa đơn" alone: a utility asks to confirm an address for its
  // invoices); tickets in Czech and Slovak.
  'phát hành hóa đơn',
  'vstupenk',
  // Round 23: a Basque status update ("eskabidearen egoera"), a Polish card payment, a Chinese token unbound
  // ("动态令牌已解绑"), a Czech examination appointment, a parish's weekly bulletin.
  'egoera',
  'płatność kartą',
  '已解绑',
  '已解綁',
  'vyšetření',
  'termín',
  // Not "newsletter": a newsletter's double opt-in asks to confirm it ("Potvrďte odběr newsletteru").
  'bulletin',
  'this week at',
  // Round 24: a weekly summary in Russian and Ukrainian ("еженедельная сводка").
  'еженедельн',
  'сводк',
  'щотижнев',
  // Round 22: a Vietnamese promotion ("giảm 50K + freeship", "khuyến mãi", "ưu đãi"): its codes are redeemed in a shop.
  'giảm',
  'khuyến mãi',
  'ưu đãi',
  'freeship',
  // Round 12: receipts and purchases in Japanese, and a delivery in Yoruba.
  '領収書',
  'レシート',
  'ご購入',
  'ìfijíṣẹ́',
  '発送',
  '配達',
  '주문',
  '발송',
  '배송',
  '订单',
  '訂單',
  '发货',
  '出貨',
  '發票',
  'ऑर्डर',
  'डिलीवर',
  'החבילה',
  'משלוח',
  'طلبك',
  'شحن',
  'pesanan',
  'đơn hàng',
  'คำสั่งซื้อ',
  'พัสดุ',
  // A case's status update ("Status of application 4470291 changed"): it reports, it asks nothing.
  'status',
  'statut',
  'статус',
  // Round 18: an application's status in Romanian, Italian, Portuguese, Polish, Czech and Hungarian.
  'actualizare stare',
  'stare cerere',
  'starea cererii',
  'stato della pratica',
  'stato della richiesta',
  'estado da solicitação',
  'stan wniosku',
  'stav žádosti',
  'állapot',
  // Tickets, bookings, appointments.
  'booking',
  'reservation',
  'e-ticket',
  'your ticket',
  // Round 8: "your tickets" where the word for a ticket also means an entrance or a ticket of a kind.
  'tus entradas',
  'tus boletos',
  'seus ingressos',
  'i tuoi biglietti',
  'itinerary',
  'boarding',
  // Round 21: a boarding pass in more languages ("Vaša ukrcajna propusnica").
  'ukrcajn',
  'укрцајн',
  'vkrcaln',
  'tarjeta de embarque',
  "carte d'embarquement",
  'bordkarte',
  "carta d'imbarco",
  'cartão de embarque',
  'instapkaart',
  'boardingkort',
  'karta pokładowa',
  'palubní vstupenk',
  'palubný lístok',
  'beszállókártya',
  'biniş kartı',
  'посадочный талон',
  'посадковий талон',
  '搭乗券',
  '登机牌',
  '登機證',
  '탑승권',
  'pnr',
  'buchung',
  'termin',
  'réservation',
  'billet',
  'reserva',
  'prenotazione',
  'biglietto',
  'boeking',
  'bokning',
  'бронирован',
  'билет',
  'квиток',
  'rezervasyon',
  'bilet',
  'rezerwacj',
  'rezervace',
  // Round 16: a government procedure's status update in Spanish.
  'actualización de tu trámite',
  'estado de tu trámite',
  'seguimiento de tu trámite',
  // Round 10: a booking in Bulgarian, Serbian and Croatian, Slovak, Romanian, Hungarian, Finnish and Danish/Norwegian.
  'резервация',
  'резервација',
  'rezervacij',
  'rezervácia',
  'rezervare',
  'rezervarea',
  'foglalás',
  'varaus',
  'varauksen',
  'bestilling',
  'κράτηση',
  '予約',
  '예약',
  '预订',
  '訂位',
  '車票',
  'حجز',
  'تذكرة',
  'टिकट',
  'tiket',
  'đặt chỗ',
  'การจอง',
  // Round 4: a parcel or an order waiting in a locker or at a counter, or on its way: its pickup or handover
  // code is typed at a locker screen or told to a courier, not into a sign-in form (README policy: "even a
  // delivery or locker code"). Not "parcel" alone: brands are named so ("Parcelo").
  'your parcel',
  'paczk',
  'locker',
  'ready for pickup',
  'ready for pick-up',
  'ready to collect',
  'ready for collection',
  'abholbereit',
  'zur abholung',
  'per il ritiro',
  'prêt à être retiré',
  'para recoger',
  'para retirada',
  'czeka na odbiór',
  'klaar om op te halen',
  'on its way',
  'unterwegs',
  'en camino',
  'en route',
  'in arrivo',
  'onderweg',
  'w drodze',
  'в пути',
  'a caminho',
  // A form's new submission or response: the fields are what someone else typed, even a "Verification code".
  'new submission',
  'form submission',
  'new response',
  'new form entry',
  'neue einsendung',
  'neue antwort',
  'nouvelle réponse',
  'nouvelle soumission',
  'nueva respuesta',
  'nuevo envío',
  'nuova risposta',
  'nuovo invio',
  'nieuwe inzending',
  'nova resposta',
  // Round 16: Romanian "new submission".
  'trimitere nouă',
  'nowe zgłoszenie',
  'nowa odpowiedź',
  // Round 8: a form's new response in more languages.
  'phản hồi mới',
  'bài nộp mới',
  'respons baru',
  'tanggapan baru',
  'yeni yanıt',
  'yeni form',
  'новый ответ',
  'нова відповідь',
  'nová odpověď',
  'nytt svar',
  'nyt svar',
  'uusi vastaus',
  'új válasz',
  'răspuns nou',
  'νέα απάντηση',
  'رد جديد',
  'תגובה חדשה',
  'คำตอบใหม่',
  '新しい回答',
  '新回复',
  '新回覆',
  '새 응답',
  // Round 21: a form's new response in Nepali, Hindi, Marathi, Bengali, Urdu and Tamil.
  'नयाँ प्रतिक्रिया',
  'नई प्रतिक्रिया',
  'नया जवाब',
  'नवीन प्रतिसाद',
  'নতুন প্রতিক্রিয়া',
  'نیا جواب',
  'புதிய பதில்',
  // Round 13: a review or selection status in Japanese ("奨学金申請の審査状況について").
  '審査状況',
  '選考状況',
  '審査結果',
  // Round 8: an application or a request under review reports its status.
  'under review',
  'in review',
  'în analiză',
  'en revisión',
  'em análise',
  'en cours d’examen',
  "en cours d'examen",
  'in bearbeitung',
  'in lavorazione',
  'w trakcie weryfikacji',
  'на рассмотрении',
  'на розгляді',
  'inceleniyor',
  '審査中',
  '审核中',
  '審核中',
  '심사 중',
  // Round 3: deliveries in more words, and the added languages.
  'out for delivery',
  'delivery',
  'livraison',
  'lieferung',
  'zustellung',
  'consegna',
  'levering',
  'leverans',
  'доставк',
  'dostaw',
  'przesyłk',
  'zásilk',
  'teslimat',
  'paquete',
  'encomenda',
  'pacco',
  'paketti',
  'toimitus',
  'tilaus',
  'kuitti',
  'lasku',
  'csomag',
  'rendelés',
  'nyugta',
  'számla',
  'comanda',
  'comandă',
  'colet',
  'livrare',
  'factură',
  'chitanță',
  'kifurushi',
  'risiti',
  'bungkusan',
  'penghantaran',
  'resit',
  'tempahan',
  'pakete',
  'resibo',
  'سفارش',
  'مرسوله',
  'رسید',
  'فاکتور',
  'অর্ডার',
  'পার্সেল',
  'ডেলিভারি',
  'রসিদ',
  // Round 7: an update on an application.
  'actualización de tu solicitud',
  'actualización de su solicitud',
  'application update',
  'update on your application',
  // Round 6: a payment's receipt in Turkish, and appointments (a reminder's door or reference code is not a
  // sign-in).
  'dekont',
  'makbuz',
  'appointment',
  'rendez-vous',
  'tu cita',
  'su cita',
  'appuntamento',
  'afspraak',
  'wizyt',
  'randevu',
  'ραντεβού',
  '预约',
  '預約',
  // Round 5: a case's status in more languages, and parcels and parcel lockers in more languages.
  'durum',
  'stav ',
  'estado de',
  'stato d',
  'κατάσταση',
  'trạng thái',
  'สถานะ',
  'स्थिति',
  'מצב ה',
  'حالة',
  'وضعیت',
  '状态',
  '狀態',
  'ステータス',
  '상태',
  'δέμα',
  'ερμάρι',
  'посилк',
  'поштомат',
  'постамат',
  'paczkomat',
  'packstation',
  '包裹',
  '快递',
  '快遞',
  '荷物',
  '택배',
  'bưu kiện',
  'पार्सल',
  'balík',
  'pacote',
  'kiriman',
  'kolli',
  'pakke',
  'zending',
  // Round 17 (lexicon audit): receipts, orders, invoices, shipping and statements in English, German, French, Spanish, Portuguese, Italian, Dutch, Nordic, Icelandic, Polish, Czech, Slovak, Slovenian, South Slavic, Macedonian, Bulgarian, Russian, Ukrainian, Estonian, Latvian, Lithuanian, Greek, Azerbaijani, Kazakh, Georgian, Armenian, Hebrew, Arabic, Urdu, Indian scripts, Thai, Vietnamese, Indonesian, Amharic, Somali, Japanese, Korean, Chinese, Catalan, Basque, Albanian, Maltese.
  'shipment',
  'dispatched',
  'quittung',
  'versandbestätigung',
  'votre reçu',
  'expédi',
  'comprobante',
  'fatura',
  'nota fiscal',
  'comprovante',
  'ricevuta',
  'factuur',
  'kvitto',
  'beställning',
  'kontoutdrag',
  'faktur',
  'kvittering',
  'ordrebekræftelse',
  'ordrebekreftelse',
  'kontoudtog',
  'kontoutskrift',
  'kvittun',
  'pöntun',
  'wysyłk',
  'účtenk',
  'výpis z účtu',
  'zásielk',
  'faktúr',
  'naročil',
  'pošiljk',
  'narudžb',
  'поруџбин',
  'пошиљк',
  'нарачк',
  'пратк',
  'поръчк',
  'фактур',
  'квитанци',
  'квитанці',
  'tellimus',
  'kviitung',
  'saadetis',
  'pasūtījum',
  'rēķin',
  'sūtījum',
  'užsakym',
  'siuntin',
  'απόδειξ',
  'τιμολόγ',
  'sifariş',
  'qəbz',
  'тапсырыс',
  'түбіртек',
  'შეკვეთ',
  'ქვითარ',
  'ამანათ',
  'պատվեր',
  'անդորրագիր',
  'חשבונית',
  'فاتورة',
  'إيصال',
  'آرڈر',
  'रसीद',
  'ઓર્ડર',
  'રસીદ',
  'पावती',
  'ஆர்டர்',
  'ரசீது',
  'ఆర్డర్',
  'రసీదు',
  'ใบเสร็จ',
  'biên lai',
  'giao hàng',
  'tanda terima',
  'tagihan',
  'ትዕዛዝ',
  'ደረሰኝ',
  'dalabkaaga',
  'rasiid',
  '請求書',
  '出荷',
  '영수증',
  '청구서',
  '发票',
  '收据',
  '收據',
  '账单',
  '帳單',
  'rebut',
  'enviament',
  'ordainagiri',
  'porosi',
  'irċevuta',
  'ordni',
]

// Calendar invitations: the invite's own subject prefix. It is an invitation to a meeting only when the
// subject carries its time ("Invitation: Q3 review @ Tue 10:30"); "Convite: acompanhe ..." invites to join.
const CALENDAR_PREFIXES = [
  // Round 13: a video consultation with a doctor, named in a subject with its time, is a meeting: its waiting-room
  // PIN or room code is the meeting's. Not in the body: a telehealth service's sign-in code mail names it too.
  'telehealth',
  'video visit',
  'video consultation',
  'videosprechstunde',
  'online-sprechstunde',
  'téléconsultation',
  'teleconsulta',
  'videoconsulta',
  'televisita',
  'videoconsult',
  'teleconsult',
  'τηλεσυμβουλευτικ',
  'телемедицин',
  'видеоконсультац',
  'オンライン診療',
  '원격 진료',
  '视频问诊',
  '視訊問診',
  'invitation:',
  'einladung:',
  'convite:',
  'invitación:',
  'invito:',
  'uitnodiging:',
  'inbjudan:',
  'zaproszenie:',
  'pozvánka:',
  'приглашение:',
  'davet:',
  'הזמנה:',
  'دعوة:',
  '招待:',
  // Round 19: Japanese "招待状" (a letter of invitation) before the colon.
  '招待状:',
  '초대:',
  '邀请:',
  'undangan:',
  'lời mời:',
  'updated invitation',
  // Romanian, Finnish, Hungarian, Swahili, Malay, Tagalog, Persian and Bengali (round 3).
  'meghívó:',
  'invitație:',
  'invitatie:',
  'kutsu:',
  'jemputan:',
  'mwaliko:',
  'imbitasyon:',
  'دعوت:',
  'আমন্ত্রণ:',
  // Round 5: Traditional Chinese, Ukrainian, Greek, Nordic, Thai and Hindi.
  '邀請:',
  'запрошення:',
  'πρόσκληση:',
  'inbydelse:',
  'invitasjon:',
  'คำเชิญ:',
  'निमंत्रण:',
  'आमंत्रण:',
  // Round 17 (lexicon audit): calendar invitations in Slovenian, Croatian, Serbian, Bosnian, Bulgarian, Macedonian, Estonian, Latvian, Lithuanian, Azerbaijani, Kazakh, Georgian, Armenian, Catalan, Basque, Albanian, Maltese.
  'povabilo:',
  'pozivnica:',
  'позивница:',
  'покана:',
  'kutse:',
  'ielūgums:',
  'kvietimas:',
  'dəvət:',
  'шақыру:',
  'მოწვევა:',
  'հրավեր:',
  'invitació:',
  'gonbidapena:',
  'ftesë:',
  'stedina:',
]

// A scheduled meeting, in the subject or the opening: its passcode is for the call, not a sign-in.
const MEETING_WORDS = [
  'meeting id',
  'meeting-id',
  'join meeting',
  'join the meeting',
  'video call',
  'videokonferenz',
  'id da reunião',
  'id de la reunión',
  'id riunione',
  'id schůzky',
  'id spotkania',
  'идентификатор конференции',
  'ミーティングid',
  '会議id',
  '회의 id',
  '会议号',
  'מזהה פגישה',
  'סיסמת הפגישה',
  'معرف الاجتماع',
  // Round 3.
  'id de réunion',
  'identifiant de réunion',
  'rejoindre la réunion',
  'numero riunione',
  'id reuniune',
  'kokouksen tunnus',
  'értekezlet azonosító',
  'id mesyuarat',
  'شناسه جلسه',
  // Round 5: the meeting's number and "join the meeting" in more languages.
  '會議號碼',
  '会议号码',
  '加入會議',
  '加入会议',
  'номер конференции',
  'ідентифікатор конференції',
  'αναγνωριστικό σύσκεψης',
  'id cuộc họp',
  'รหัสการประชุม',
  'मीटिंग आईडी',
  'toplantı kimliği',
  'id van de vergadering',
  'mötes-id',
  'møte-id',
  'møde-id',
]

// Words of a request to type a code, in the body: "enter this code", "geben Sie den Code ein".
const ENTRY_WORDS = [
  'enter',
  'type',
  'paste',
  'input',
  'use this code',
  'use the code',
  'use the following',
  'eingeben',
  'geben sie',
  'gib ',
  'saisissez',
  'saisir',
  'entrez',
  'introduce',
  'ingresa',
  'ingresá',
  // Not "escribe" alone: "escribe a mesadeayuda@..." asks to write to someone.
  'escribe el',
  'escribe este',
  'escribe tu',
  'escribe la',
  'digite',
  'insira',
  'inserisci',
  'inserisca',
  'vul ',
  'voer ',
  'введите',
  'введіть',
  'ввести',
  'wpisz',
  'wprowadź',
  'podaj',
  'ange ',
  'skriv in',
  'girin',
  'giriniz',
  'zadejte',
  'εισάγετε',
  'πληκτρολογήστε',
  // Round 7: Amharic and Lithuanian.
  'ያስገቡ',
  'įveskite',
  'įvesk',
  '入力',
  '입력',
  '输入',
  '輸入',
  '填写',
  'أدخل',
  'ادخل',
  'להזין',
  'הזן',
  'להקליד',
  'दर्ज',
  'กรอก',
  'ใส่รหัส',
  'masukkan',
  'pakai',
  'gunakan',
  'nhập',
  'sử dụng mã',
  // Romanian, Finnish, Hungarian, Swahili, Malay, Tagalog, Persian and Bengali (round 3).
  'introdu',
  'tastează',
  'tastati',
  'folosește codul',
  'syötä',
  'kirjoita',
  // Round 17: "by typing" in Finnish ("Vahvista julkaisu kirjoittamalla alla oleva lause").
  'kirjoittamalla',
  'syöttämällä',
  'anna koodi',
  'add meg',
  'adja meg',
  'írd be',
  'írja be',
  'weka',
  'iweke',
  'ingiza',
  'andika',
  'taip',
  'ilagay',
  'i-type',
  'ipasok',
  'وارد کنید',
  'وارد نمایید',
  'লিখুন',
  'প্রবেশ করান',
  // Round 8: the languages added to the code words (lexicon.ts).
  'درج کریں',
  'درج کیجیے',
  'បញ្ចូល',
  'შეიყვანე',
  'მიუთითე',
  'մուտքագրեք',
  'մուտքագրիր',
  'ထည့်',
  'ປ້ອນ',
  'ඇතුළත් කරන්න',
  'உள்ளிடவும்',
  'உள்ளிடுக',
  'నమోదు చేయండి',
  'ನಮೂದಿಸಿ',
  'നൽകുക',
  'દાખલ કરો',
  'ਦਰਜ ਕਰੋ',
  'प्रविष्ट',
  'sisesta',
  'ievadiet',
  'ievadi',
  'vnesite',
  'vnesi',
  'unesite',
  'unesi',
  'унесите',
  'въведете',
  'внесете',
  'indtast',
  'tast inn',
  'skriv inn',
  'sláðu inn',
  'vendosni',
  'shkruani',
  'shigar',
  'rhowch',
  'cuir isteach',
  'whakauru',
  'escriu',
  'introdueix',
  'introduïu',
  'idatzi',
  'sartu',
  'ولیکئ',
  'ولیکه',
  'ynfiere',
  // Round 17 (lexicon audit): French, Spanish, Italian, Dutch, Nordic, Polish, Czech, Slovak, Slovenian, Croatian, Serbian, Macedonian, Bulgarian, Romanian, Latvian, Greek, Turkish, Azerbaijani, Russian, Ukrainian, Kazakh, Hebrew, Arabic, Hindi, Gujarati, Thai, Indonesian, Chinese, Albanian, Maltese.
  'tapez',
  'renseignez',
  'utilisez le code',
  'utilisez ce code',
  'ingrese',
  'usa el código',
  'usa este código',
  'utiliza el código',
  'utilice el código',
  'immetti',
  'immettere',
  'inserire',
  'usa il codice',
  'utilizza il codice',
  'gebruik de code',
  'gebruik deze code',
  'typ de',
  'fyll i koden',
  'använd koden',
  'mata in',
  'angiv',
  'brug koden',
  'oppgi',
  'bruk koden',
  'sláið inn',
  'wpisać',
  'wprowadzić',
  'użyj kodu',
  'zadej',
  'vložte',
  'použijte kód',
  'zadajte',
  'použite kód',
  'vpišite',
  'uporabite kodo',
  'upišite',
  'koristite kod',
  'ukucajte',
  'упишите',
  'укуцајте',
  'унеси',
  'внеси',
  'впишете',
  'въведи',
  'използвайте кода',
  'tastați',
  'tastaţi',
  'folosiți codul',
  'utilizați codul',
  'izmantojiet kodu',
  'εισαγάγετε',
  'καταχωρίστε',
  'καταχωρήστε',
  'girerek',
  'girmeniz',
  'daxil edin',
  'используйте код',
  'вставьте',
  'використайте код',
  'використовуйте код',
  'енгізіңіз',
  'הזינו',
  'הקלידו',
  'הקלד',
  'إدخال',
  'डालें',
  'દાખલ કર',
  'ป้อน',
  'ketikkan',
  '填入',
  '键入',
  '鍵入',
  'futni',
  'fut kodin',
  'daħħal',
]

// Words of a request to click or tap, in the opening: the mail's action is a link.
const CLICK_WORDS = [
  // Round 17: Uzbek "bosing" (press).
  'bosing',
  'click',
  'tap ',
  'tap the',
  'tap to',
  'press the',
  'klick',
  'tippe',
  'cliqu',
  'appuyez',
  'haz clic',
  'haga clic',
  'pulsa',
  'toque',
  'toca ',
  'fai clic',
  'clicca',
  'tocca',
  'klik',
  'clicio',
  'cliciwch',
  'cliceáil',
  'pāwhiri',
  'tıkla',
  'dokun',
  'klepn',
  'tryck',
  'κλικ',
  'πατήστε',
  'кликн',
  'нажм',
  'натисн',
  'перейдите по ссылке',
  'перейдіть за посиланням',
  '点击',
  '點擊',
  '点按',
  'クリック',
  'タップ',
  '클릭',
  '누르',
  'לחץ',
  'לחצו',
  'انقر',
  'اضغط',
  'क्लिक',
  'คลิก',
  'nhấn',
  'bấm',
  'ketuk',
  // Romanian, Finnish, Hungarian, Swahili, Malay, Tagalog, Persian and Bengali (round 3).
  'apasă',
  'apasa',
  'faceți clic',
  'faceti clic',
  'napsauta',
  'paina',
  'kattint',
  'bofya',
  'bonyeza',
  'gusa',
  'tekan',
  'i-click',
  'pindutin',
  'کلیک',
  'ক্লিক',
  'চাপুন',
  'ট্যাপ',
  // Round 17 (lexicon audit): French, Spanish, Portuguese, Italian, Dutch, Nordic, Icelandic, Polish, Czech, Slovak, Slovenian, South Slavic, Romanian, Hungarian, Estonian, Latvian, Lithuanian, Azerbaijani, Russian, Ukrainian, Kazakh, Georgian, Armenian, Hebrew, Persian, Urdu, Indian scripts, Vietnamese, Amharic, Somali, Korean, Chinese, Catalan, Maltese.
  'touchez',
  'presiona',
  'presione',
  'pulse el',
  'pulse en',
  'pulse aquí',
  'pulse sobre',
  'da clic',
  'dé clic',
  'hacer clic',
  'carregue em',
  'carregue no',
  'pressione',
  'clicchi',
  'faccia clic',
  'premi il',
  'premi sul',
  'tik op',
  'druk op',
  'tryk på',
  'trykk på',
  'smelltu',
  'smellið',
  'naciśnij',
  'dotknij',
  'stuknij',
  'stiskn',
  'ťukn',
  'stlačte',
  'pritisnite',
  'tapnite',
  'притисните',
  'притиснете',
  'dați clic',
  'dati clic',
  'dă clic',
  'faceţi clic',
  'koppint',
  'klõps',
  'vajuta',
  'klikšķin',
  'noklikšķin',
  'spustel',
  'paspausk',
  'toxunun',
  'щёлкните',
  'щелкните',
  'коснитесь',
  'клацніть',
  'торкніться',
  'басыңыз',
  'нұқыңыз',
  'დააჭირ',
  'დააწკაპუნ',
  'սեղմեք',
  'לחצי',
  'הקישו',
  'ضربه بزنید',
  'کلک کریں',
  'टैप करें',
  'ક્લિક',
  'கிளிக்',
  'క్లిక్',
  'nhấp',
  'ጠቅ ያድርጉ',
  'guji',
  '탭하',
  '單擊',
  '单击',
  '輕觸',
  '轻触',
  'feu clic',
  'fes clic',
  'premeu',
  'ikklikkja',
  'agħfas',
]

// A link's validity, in the opening: it expires, or works only once.
const EXPIRY_WORDS = [
  'expire',
  'valid for',
  'valid until',
  'only once',
  'one time',
  'gültig',
  'einmal',
  'valable',
  'une fois',
  'válido',
  'valido',
  'una vez',
  'uma vez',
  'geldig',
  'giltig',
  'действ',
  'дійсн',
  'один раз',
  'ważny',
  'jednorazow',
  'geçerli',
  'kullanılabilir',
  'bir kez',
  'platn',
  'ισχύ',
  '有効',
  '유효',
  '有效',
  'בתוקף',
  'صالح',
  'मान्य',
  'หมดอายุ',
  'berlaku',
  'hiệu lực',
  'hết hạn',
  // Romanian, Finnish, Hungarian, Swahili, Malay, Tagalog, Persian and Bengali (round 3).
  'valabil',
  'dod i ben',
  'bailí',
  'ka pau',
  'o singură dată',
  'expiră',
  'voimassa',
  'vanhenee',
  'kerran',
  'érvényes',
  'lejár',
  'egyszer',
  'itaisha',
  'halali',
  'mara moja',
  'sah ',
  'tamat',
  'mag-e-expire',
  'isang beses',
  'منقضی',
  'معتبر',
  'মেয়াদ',
  'বৈধ',
  // Round 17 (lexicon audit): German, Spanish, Portuguese, Italian, Dutch, Nordic, Icelandic, Estonian, Polish, Czech, Slovak, Slovenian, South Slavic, Bulgarian, Latvian, Lithuanian, Greek, Azerbaijani, Russian, Ukrainian, Kazakh, Georgian, Armenian, Hebrew, Arabic, Urdu, Indian scripts, Indonesian, Malay, Chinese, Japanese, Korean, Catalan, Basque, Albanian, Maltese.
  'läuft ab',
  'verfällt',
  'expira',
  'caduca',
  'vence',
  'scade',
  'verloopt',
  'vervalt',
  'eenmalig',
  'går ut',
  'upphör',
  'udløber',
  'utløper',
  'gyldig',
  'gildir',
  'rennur út',
  'kehti',
  'aegub',
  'wygaśnie',
  'wygasa',
  'vyprš',
  'veljav',
  'poteče',
  'istječe',
  'ističe',
  'važi ',
  // Round 21: Croatian "vrijedi/vrijede" and Serbian "vredi/vrede" (is valid); with the space: not "vrijednost".
  'vrijedi ',
  'vrijede ',
  'vredi ',
  'vrede ',
  'истиче',
  'истекува',
  'важи ',
  'валиден',
  'валидна',
  'изтича',
  'derīg',
  'beigsies',
  'galioj',
  'λήγει',
  'έγκυρ',
  'etibarlı',
  'истека',
  'истеч',
  'сплив',
  'жарамды',
  'მოქმედებს',
  'վավեր',
  'יפוג',
  'תפוג',
  'تنتهي',
  'میعاد',
  'समाप्त',
  'માન્ય',
  'वैध',
  'कालबाह्य',
  'செல்லுபடி',
  'காலாவதி',
  'చెల్లుబాటు',
  'గడువు',
  'kedaluwarsa',
  'kadaluarsa',
  'luput',
  '过期',
  '過期',
  '失效',
  '期限',
  '만료',
  'vàlid',
  'balioz',
  'iraungi',
  'skadon',
  'vlefsh',
  'jiskadi',
  'validu',
]

// A link named in the subject ("Your sign-in link", "Tu enlace para entrar"): the mail's step is a link.
const LINK_NOUNS = [
  'link',
  // Round 22: a URL named in the subject ("ログイン用URL・認証コードのお知らせ"), after a Japanese word too.
  'url',
  '用url',
  'ログインurl',
  '認証url',
  '確認url',
  '登録url',
  'enlace',
  'lien',
  'collegamento',
  'länk',
  'bağlantı',
  'ссылк',
  'посилан',
  'odkaz',
  'σύνδεσμ',
  'リンク',
  '링크',
  '链接',
  '連結',
  'קישור',
  'رابط',
  'लिंक',
  'ลิงก์',
  'tautan',
  'liên kết',
  // Romanian, Finnish, Hungarian, Swahili, Malay, Tagalog, Persian and Bengali (round 3).
  'kiungo',
  'pautan',
  'لینک',
  'پیوند',
  'লিঙ্ক',
  // Round 17: Uzbek "havola", Faroese "leinkja"; Gujarati ("આ લિંક ખોલીને"); Macedonian and Serbian Cyrillic ("отворете го линкот"); Estonian cases of "link" ("sellelt lingilt").
  'havola',
  'leinkj',
  // Round 18: Belarusian "па спасылцы"; round 19: Afrikaans "die skakel".
  'спасылк',
  'skakel',
  'લિંક',
  'линк',
  'lingil',
  'lingile',
  // Round 8: Slovenian, Croatian, Bulgarian, Georgian, Urdu and Khmer.
  'povezav',
  'poveznic',
  'връзка',
  'ბმულ',
  'لنک',
  'តំណ',
  // Round 9: Welsh (dolen, mutated ddolen), Irish and Māori.
  'dolen',
  'ddolen',
  'nasc',
  'hononga',
  'keppeling',
  'xiriirka',
  'estekan',
  'enllaç',
  // Round 17 (lexicon audit): Spanish, Norwegian, Icelandic, Hungarian, Latvian, Lithuanian, Azerbaijani, Kazakh, Armenian, Tamil, Telugu, Thai, Amharic, Chinese, Basque, Galician, Albanian, Maltese.
  'vínculo',
  'lenke',
  'hlekk',
  'saiti',
  'saites',
  'nuorod',
  'keçid',
  'сілтеме',
  'հղում',
  'இணைப்பை',
  'లింక్',
  'ลิงค์',
  'ሊንክ',
  'አገናኝ',
  '鏈接',
  'esteka',
  'ligazón',
  'lidhjen',
  'lidhja',
  'ħolqa',
]

// Requests to reset a password, in the subject or the opening.
// Round 17 (lexicon audit): reset in Icelandic, Slovak, Cyrillic, Bulgarian, Lithuanian, Azerbaijani, Kazakh, Armenian, Urdu, Somali, Catalan, Basque, Albanian, Maltese.
const RESET_WORDS =
  /reset|forgot|new password|recover|zurücksetzen|neues passwort|réinitialis|nouveau mot de passe|restablecer|recuperar|redefinir|reimposta|recupera|herstellen|nieuw wachtwoord|återställ|nytt lösenord|сброс|восстановлени|відновлення|новый пароль|zmiana hasła|resetowanie|nowe hasło|sıfırla|obnoven|επαναφορά|再設定|リセット|재설정|비밀번호 찾기|重置|重設|找回|איפוס|שחזור|إعادة تعيين|استعادة|रीसेट|ตั้งรหัสผ่านใหม่|รีเซ็ต|atur ulang|đặt lại|khôi phục|salasanan (?:vaihta|palautus|nollaus)|uusi salasana|unohditko|jelszó-?visszaállítás|új jelszó|elfelejtett|weka upya|kuweka upya|tetapkan semula|set semula|بازنشانی|بازیابی|রিসেট|нова парола|novo geslo|nova lozinka|нова лозинка|uus parool|jauna parole|naujas slaptažodis|nýtt lykilorð|ახალი პაროლ|نیا پاس ورڈ|скидання|скинути|nij wachtwurd|pasahitz berri|پټنوم|යළි සකස|යළි සැකසී|மீட்டமை|రీసెట్|ಮರುಹೊಂದಿಸ|പുനഃസജ്ജ|रिसेट|ပြန်လည်သတ်မှတ်|កំណត់ឡើងវិញ|ຕັ້ງຄ່າໃໝ່|აღდგენ|ዳግም \S*ጀ[ምመ]|રીસેટ|endurstill|obnoviť|ресет|възстанов|atkurti|yeni şifrə|bərpa|қалпына келтір|жаңа құпиясөз|վերականգն|նոր գաղտնաբառ|ری سیٹ|dib u deji|restableix|restablir|nova contrasenya|berrezarri|rivendos|irrisettja|promjenu lozinke|novu lozinku|promjena lozinke|скід пароля|новы пароль|wagwoord terug|terugstel|nuwe wagwoord/

/** A subject that asks for a step: confirm, verify, approve, authorise, activate an account. */
const SUBJECT_REQUEST =
  /\b(?:confirm|verify|approve|authori[sz]e|activate)\b|activez|activa tu|ativar|ative sua|attiva il|attiva l|aktivieren sie|aktiviere|activeer|bestätigen sie|bestätige|confirmez|confirme|confirma|conferma|bevestig|подтвердите|potwierdź|onaylayın|確認してください|확인해 주세요|请确认|請確認|confirmă|vahvista|erősítsd meg|erősítse meg|thibitisha|sahkan|kumpirmahin|تایید کنید|নিশ্চিত করুন|vátta/

const findNoticeWord = prefixMatcher(NOTICE_SUBJECT_WORDS)
const findCalendarPrefix = prefixMatcher(CALENDAR_PREFIXES)
/** A time or a date in a subject: 10:30, 2pm, 18.06., 2025/06/12, or the "@" before a meeting's time. */
// Round 17: a day and a month stand alone, not inside a longer number: a school year "2024/25" is not a date.
const SUBJECT_TIME = /\d{1,2}[:.]\d{2}|\d{1,2} ?[ap]m\b|(?<!\d)\d{1,2}[./]\d{1,2}|\s@\s/
const SPACE_BEFORE_COLON = /\s+:/g
const PERCENT = /\d\s?%/
/**
 * A subscription or a newsletter named in a subject that asks to confirm it ("Vahvista ilmoitusten tilaus", "Confirm
 * your subscription"): a double opt-in, whose confirm link is the step, though "tilaus" is also an order.
 */
const SUBSCRIPTION =
  /subscri|newsletter|tilau|abonnement|abonnier|suscrip|inscri|iscrizion|prenumer|abonelik|подписк|підписк|subskrypc|odběr|購読|구독|订阅|訂閱/
/** An address or an account named in a subject that asks to confirm it ("Please confirm your email to hold your booking"). */
const ADDRESS =
  /e-?mail|address|account|adresse|konto|cuenta|correo|conta|indirizzo|adres|аккаунт|адрес|почт|メール|アカウント|이메일|계정|邮箱|邮件|帳號|電子郵件/
const findMeetingWord = prefixMatcher(MEETING_WORDS)
/** An e-mail address, as calendar invitations put the attendee's in the subject. */
const ADDRESS_IN_SUBJECT = /[^\s()<>@]+@[^\s()<>@]+\.[a-z]{2,}/g
/**
 * Round 24: the name of the two-step feature ("Security alert: two-step verification turned off") holds a one-time
 * word but asks for no code; "Your two-step verification code" still says "code" without it.
 */
const TWO_STEP_FEATURE =
  /two[- ]step verification|two[- ]factor authentication|2-step verification|multi-factor authentication|zwei-faktor-authentifizierung|bestätigung in zwei schritten|vérification en deux étapes|authentification à deux facteurs|verificación en dos pasos|autenticación de dos factores|verificação em duas etapas|autenticação de dois fatores|verifica in due passaggi|autenticazione a due fattori|tweestapsverificatie|weryfikacja dwuetapowa|двухэтапн\S* проверк\S*|двухфакторн\S* аутентификаци\S*|двоетапн\S* перевірк\S*|iki adımlı doğrulama|二段階認証|两步验证|兩步驟驗證|2단계 인증/g
/** An imperative to confirm followed by "your": "confirm your booking", "conferma la tua prenotazione". */
const CONFIRM_YOUR =
  /(?:confirm|conferma|confirma|confirme|confirmez|bestätige|bestätigen sie|bevestig|potwierdź|bekräfta)\s+(?:your|la tua|il tuo|tu|tus|sua|seu|votre|vos|deine|ihre|je|uw|swoją|swój|din|ditt)(?!\p{L})/u
/** Round 21: a subject naming a sign-in link ("Your sign-in link for Manage My Booking"): the link is the step. */
const SIGN_IN_LINK =
  /(?:sign[- ]?in|log[- ]?in|magic) link|anmeldelink|lien de connexion|enlace de (?:inicio de sesión|acceso)|link di accesso|link de acesso|inloglink|inloggningslänk|link do logowania|ссылка для входа/
/** A subject saying someone invited the reader ("X har bjudit in dig", "X invited you to"). */
const INVITED_YOU =
  /invited you|has invited|te ha invitado|te invitó|hat dich eingeladen|hat sie eingeladen|vous a invité|t'a invité|ti ha invitato|convidou você|te convidou|heeft je uitgenodigd|har bjudit in dig|har inviteret dig|har invitert deg|zaprosił|zaprosiła|пригласил|запросив|запросила/

/**
 * A door, a gate or a keypad in the opening: a code typed there opens a building, a gym or a key box (README policy:
 * like a locker's code, a notice's value). Not the words that also mean a sign-in ("entrada", "вход", "giriş").
 */
const DOOR_WORDS = [
  // English "door" only with its article: Dutch "door" means "by".
  'the door',
  'front door',
  'keypad',
  'key box',
  'keybox',
  'front gate',
  // Round 23: a check-in kiosk's code ("zadejte kód do kiosku v hale").
  'kiosk',
  'kiosek',
  'киоск',
  'キオスク',
  // Round 18: not "entrance" alone ("National Entrance Examination").
  'the entrance',
  'main entrance',
  'entrance door',
  'deur',
  'toetsenpaneel',
  'sleutelkluis',
  'haustür',
  'tür ',
  'eingang',
  'tastenfeld',
  'schlüsselbox',
  'schlüsseltresor',
  'porte',
  'digicode',
  'boîte à clés',
  'puerta',
  'portal de acceso',
  'caja de llaves',
  'portão',
  'cofre de chaves',
  'cancello',
  'portone',
  'cassetta',
  'drzwi',
  'domofon',
  'skrytka na klucze',
  'двер',
  'домофон',
  'kapı',
  'ドア',
  'オートロック',
  'キーボックス',
  '门禁',
  '門禁',
  '密码锁',
  '대문',
  '출입문',
  '도어락',
]
const findDoorWord = prefixMatcher(DOOR_WORDS)
/** A request to type something ("enter", "geben Sie ... ein"), in lower-case text. */
export const findEntryWord = prefixMatcher(ENTRY_WORDS)
const findClickWord = prefixMatcher(CLICK_WORDS)
const clickPosition = prefixPosition(CLICK_WORDS)
const entryPosition = prefixPosition(ENTRY_WORDS)
const findExpiryWord = prefixMatcher(EXPIRY_WORDS)
/** A link named in lower-case text ("link", "enlace", "povezavo"). */
export const findLinkNoun = prefixMatcher(LINK_NOUNS)
const findSignInWord = substringMatcher(LINK_WEAK_WORDS)

/** Reads the purpose from the subject and the opening of the body; word lists are matched in lower case. */
export function classifyPurpose(subjectLine: string, body: string): Purpose {
  // Round 18: an address in the subject is no word of it ("(tan.weiling@inbox.example)" holds no TAN).
  const subject = subjectLine.toLowerCase().replace(ADDRESS_IN_SUBJECT, ' ').replace(TWO_STEP_FEATURE, ' ')
  // URLs are not words of the request: a tracking host ("https://click.notify.example/...") asks for no click.
  const opening = body.slice(0, OPENING_CHARS).toLowerCase().replace(URL_IN_OPENING, ' ')
  const listedNotice = findNoticeWord(subject)
  const noticeWord =
    listedNotice ??
    // Round 11: a percentage in the subject ("Premium-Pass jetzt 25 % günstiger", "20% off") is a promotion: its codes
    // are redeemed at a shop, not typed to sign in.
    PERCENT.exec(subject)?.[0] ??
    // French typography puts a space before the colon ("Invitation : Comité @ jeu. 14:00").
    (SUBJECT_TIME.test(subject) ? findCalendarPrefix(subject.replace(SPACE_BEFORE_COLON, ':')) : null)
  // A bare "code" in a subject that names an order or a booking is that booking's code ("Booking code
  // K8Q2VT"); a one-time code word ("verification", "OTP") is not, whatever else the subject says.
  const oneTime = findOneTimeCodeWord(subject)
  const subjectCode = oneTime ?? (noticeWord || findNotCodeWord(subject) ? null : findCodeWord(subject))
  const entry = findEntryWord(opening)
  const openingCode = entry ? findCodeWord(opening) : null
  const asksCode = subjectCode
    ? `subject says "${subjectCode}"`
    : entry && openingCode
      ? `asks to "${entry.trim()}" a code`
      : null
  // A notice that asks to type a code is a request only when the code is one-time or the subject asks
  // for the step ("Confirm the change to order #100482"); a ticket's pickup code is typed at a machine.
  const subjectRequest = SUBJECT_REQUEST.exec(subject)?.[0] ?? null
  // Round 17: a subject that asks the reader to confirm their own booking ("Azione richiesta: conferma la tua
  // prenotazione"), or that says they were invited ("har bjudit in dig till en gemensam bokning"), asks for a step
  // whatever notice word it holds.
  const asksOwnStep =
    (subjectRequest !== null && CONFIRM_YOUR.test(subject)) ||
    INVITED_YOU.test(subject) ||
    SIGN_IN_LINK.test(subject)
  const request = oneTime ?? subjectRequest
  const changed = passwordChanged(subject) ?? passwordChanged(opening.slice(0, 300))
  const meetingInSubject = findMeetingWord(subject)
  const meetingInOpening = meetingInSubject ? null : findMeetingWord(opening)
  // An order or a booking mail that asks for a code is a request ("enter code 558012 to confirm the change"), and so
  // is an account activation that mentions a meeting room in its body ("Activez votre compte": the code, then a
  // tip about the personal room's meeting ID).
  const notice = changed
    ? `reports a changed password ("${changed}")`
    : meetingInSubject || (meetingInOpening && !(asksCode && request))
      ? `a meeting invitation ("${meetingInSubject ?? meetingInOpening}")`
      : noticeWord &&
          !(asksCode && request) &&
          !(subjectRequest && (SUBSCRIPTION.test(subject) || ADDRESS.test(subject))) &&
          !(asksOwnStep && listedNotice)
        ? `a notice ("${noticeWord}")`
        : doorCode(opening, asksCode, oneTime)
  // The opening tells a reset mail only when the mail asks for no code: a code mail's "reset your
  // password" is its escape link.
  const reset =
    RESET_WORDS.exec(subject)?.[0] ?? (asksCode ? null : RESET_WORDS.exec(opening.slice(0, 300))?.[0]) ?? null
  const click = findClickWord(opening)
  const expiry = click ? findExpiryWord(opening) : null
  const linkNoun = findLinkNoun(subject)
  const asksClick =
    click && expiry
      ? `asks to "${click.trim()}" a link that is "${expiry}"`
      : linkNoun
        ? `names a "${linkNoun}" in its subject`
        : null
  const entryAt = entry ? entryPosition(opening) : -1
  const clickFirst =
    asksClick && asksCode && (entryAt === -1 || clickPosition(opening) < entryAt) ? asksClick : null
  // Read only when a bare sign-in link asks for it: most mails have none, and the opening's word lists cost.
  let signIn: string | null | undefined
  return {
    asksCode,
    reset: reset && !changed ? reset : null,
    notice,
    asksClick,
    clickFirst,
    get asksSignIn() {
      if (signIn === undefined) signIn = asksClick ?? signInRequest(subject, opening, click)
      return signIn
    },
  }
}

/**
 * A click asked for in the opening, a link that expires or one the opening names ("Use this link to sign
 * in"), or a sign-in named in the subject: a bare sign-in link may be the mail's step.
 */
function signInRequest(subject: string, opening: string, click: string | null): string | null {
  if (click) return `asks to "${click.trim()}"`
  const expiring = findExpiryWord(opening)
  if (expiring) return `names a link that is "${expiring}"`
  const link = findLinkNoun(opening)
  if (link) return `names a "${link}"`
  const signIn = findSignInWord(subject)
  return signIn ? `subject says "${signIn}"` : null
}

/**
 * Round 13: a code typed at a door, a gate or a keypad ("Toets bij de ingang je toegangscode in op het toetsenpaneel
 * naast de deur") opens a place, not an account: a notice, unless the mail names a one-time code.
 */
function doorCode(opening: string, asksCode: string | null, oneTime: string | null): string | null {
  if (!asksCode || oneTime) return null
  const door = findDoorWord(opening)
  return door ? `a code for a door ("${door.trim()}")` : null
}

/** A negation right before a word ("не е", "nije", "not"). */
const NEGATION_BEFORE = /(?<!\p{L})(?:не е|не|није|nije|nie|ne|nu|not|nicht|non|niet)\s+$/u

function passwordChanged(text: string): string | null {
  if (!PASSWORD_WORD.test(text)) return null
  const changed = CHANGED_WORD.exec(text)
  // Round 21: "не е променет" (has not been changed, of an appointment in a reset mail) reports no change.
  if (!changed || NEGATION_BEFORE.test(text.slice(Math.max(0, changed.index - 8), changed.index))) return null
  return changed[0]
}
