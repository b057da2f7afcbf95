// The ?key= style against the shared credential-style contract, plus what only it promises.

import { expect, test } from 'bun:test'
import { runCredentialStyleContract } from '../../../test/contracts/auth.ts'
import { create, name } from './index.ts'

runCredentialStyleContract(name, {
  style: create({}),
  carry: (url, credential) => {
    const withKey = new URL(url)
    withKey.searchParams.set('key', credential)
    return new Request(withKey)
  },
  malformed: (url) => new Request(`${url}?key=`),
})

test('query: honoured on every route, unlike access_token; an empty or repeated key is a 401', () => {
  const style = create({})
  const read = (url: string) => style.read(new Request(url))
  expect(style.scope).toBe('request')
  expect(read('http://x.test/v1/messages/abc?key=mbt_abc&limit=5')).toBe('mbt_abc')
  expect(read('http://x.test/?limit=5&key=a%2Bb')).toBe('a+b')
  expect(() => read('http://x.test/?key')).toThrow('"key" query parameter is empty')
  expect(() => read('http://x.test/?key=a&key=b')).toThrow('"key" more than once')
})

test('query: never reads access_token, a look-alike parameter or a header', () => {
  const style = create({})
  expect(
    style.read(
      new Request('http://x.test/?access_token=abc&apikey=abc&keys=abc', { headers: { 'x-api-key': 'abc' } }),
    ),
  ).toBeNull()
  expect(style.securityScheme?.scheme).toMatchObject({ type: 'apiKey', in: 'query', name: 'key' })
})
