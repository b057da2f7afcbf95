// The bearer style against the shared credential-style contract, plus what only it promises.

import { expect, test } from 'bun:test'
import { runCredentialStyleContract } from '../../../test/contracts/auth.ts'
import { create, name } from './index.ts'

runCredentialStyleContract(name, {
  style: create({}),
  carry: (url, credential) => new Request(url, { headers: { authorization: `Bearer ${credential}` } }),
  malformed: (url) => new Request(url, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
})

test('bearer: the scheme name is case-insensitive (RFC 9110) and surrounding blanks are ignored', () => {
  const style = create({})
  const read = (header: string) =>
    style.read(new Request('http://x.test/', { headers: { authorization: header } }))
  expect(read('bearer abc')).toBe('abc')
  expect(read('BEARER \tabc  ')).toBe('abc')
  expect(() => read('Bearer')).toThrow('must be "Bearer')
  expect(() => read('Bearer a b')).toThrow('must be "Bearer')
})
