// The extractor on clear cases; accuracy over the labelled corpus is measured by bench/extraction-accuracy.ts.

import { describe, expect, test } from 'bun:test'
import { extractOtpAndLink, htmlToText } from '#lib/extract/index.ts'
import { parseMail } from '#lib/mail.ts'
import { fixture } from './support/api-harness.ts'

const plain = (text: string, subject = 'Hello') => extractOtpAndLink({ subject, text, html: null })

describe('one-time codes', () => {
  test('finds codes after a code word, in several languages and shapes', () => {
    expect(plain('Your verification code is 482913.').otp).toBe('482913')
    expect(plain('Your code: 0417').otp).toBe('0417')
    expect(plain('Ihr Bestätigungscode lautet 482 913').otp).toBe('482913')
    expect(plain('Votre code de vérification : 55-1290').otp).toBe('551290')
    expect(plain('Su código es K7F-9QX').otp).toBe('K7F9QX')
    expect(plain('Ваш код подтверждения: 7731').otp).toBe('7731')
    expect(plain('您的验证码是 650321，5分钟内有效。').otp).toBe('650321')
    expect(plain('인증번호 [918273]를 입력하세요').otp).toBe('918273')
    expect(plain('Hi,\n\n  A1B2C3\n\nEnter this code to sign in.').otp).toBe('A1B2C3')
    expect(
      extractOtpAndLink({ subject: '382910 is your login code', text: 'Welcome back.', html: null }).otp,
    ).toBe('382910')
  })

  test('reads a code drawn one digit per table cell', () => {
    const html =
      '<p>Your code:</p><table><tr><td>4</td><td>8</td><td>2</td><td>9</td><td>1</td><td>3</td></tr></table>'
    expect(htmlToText(html)).toContain('482913')
    expect(extractOtpAndLink({ subject: 'Sign in', text: null, html }).otp).toBe('482913')
  })

  test('says null rather than guess: years, prices, orders, phones, durations, promotions', () => {
    for (const text of [
      'Thanks for your order 58213904. It ships on 12.12.2026.',
      'Total: $1,299.00 — call us at +1 415 555 0134',
      'Our office moved to 94103 San Francisco in 2026.',
      'This link is valid for 10 minutes.',
      'Use code SAVE20 for 20% off everything!',
      'Tracking number 1Z999AA10123456784 — shipping 2 items',
      'Meeting on Friday at 14:30, room 4021.',
    ])
      expect(plain(text).otp, text).toBeNull()
  })
})

describe('verification links', () => {
  test('picks the confirm link among unsubscribe, privacy, social and image links, entities decoded', async () => {
    const parsed = await parseMail(fixture('confirm-de-qp.eml'))
    expect(extractOtpAndLink(parsed).link).toBe(
      'https://accounts.example-shop.de/confirm?token=9f8e7d6c5b4a&lang=de',
    )
    const html = `
      <a href="https://shop.example/"><img src="https://shop.example/logo.png" alt="Shop"></a>
      <a href="https://click.mail.shop.example/ls/click?upn=aXZ2&amp;id=7">Verify your email</a>
      <a href="https://shop.example/privacy">Privacy</a>
      <a href="https://twitter.com/shop">Twitter</a>
      <a href="https://shop.example/unsubscribe?u=123">Unsubscribe</a>`
    expect(extractOtpAndLink({ subject: 'Welcome', text: null, html }).link).toBe(
      'https://click.mail.shop.example/ls/click?upn=aXZ2&id=7',
    )
  })

  test('no link in a newsletter', () => {
    const html =
      '<a href="https://news.example/article/42">Read more</a> <a href="https://news.example/unsubscribe">Unsubscribe</a>'
    expect(extractOtpAndLink({ subject: 'This week', text: null, html }).link).toBeNull()
  })
})
