// The x-api-key style against the shared credential-style contract, plus what only it promises.

import { expect, test } from 'bun:test'
import { runCredentialStyleContract } from '../../../test/contracts/auth.ts'
import { create, name } from './index.ts'

runCredentialStyleContract(name, {
  style: create({}),
  carry: (url, credential) => new Request(url, { headers: { 'x-api-key': credential } }),
  malformed: (url) => new Request(url, { headers: { 'x-api-key': '' } }),
})

test('header: an empty, blank-holding or doubled x-api-key is a 401, never anonymous', () => {
  const style = create({})
  const read = (init: HeadersInit) => style.read(new Request('http://x.test/', { headers: init }))
  expect(read({ 'x-api-key': '  mbt_abc  ' })).toBe('mbt_abc')
  expect(read({ 'X-API-Key': 'mbt_abc' })).toBe('mbt_abc')
  expect(() => read({ 'x-api-key': '   ' })).toThrow('x-api-key header must hold exactly one')
  expect(() => read({ 'x-api-key': 'Bearer mbt_abc' })).toThrow('x-api-key header must hold exactly one')
  const doubled = new Headers()
  doubled.append('x-api-key', 'mbt_one')
  doubled.append('x-api-key', 'mbt_two')
  expect(() => read(doubled)).toThrow('x-api-key header must hold exactly one')
})

test('header: never reads the Authorization header or the query', () => {
  const style = create({})
  expect(
    style.read(
      new Request('http://x.test/?key=abc&access_token=abc', { headers: { authorization: 'Bearer abc' } }),
    ),
  ).toBeNull()
  expect(style.securityScheme?.scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-api-key' })
})
