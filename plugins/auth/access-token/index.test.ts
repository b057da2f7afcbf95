// The access_token style against the shared credential-style contract, plus what only it promises.

import { expect, test } from 'bun:test'
import { runCredentialStyleContract } from '../../../test/contracts/auth.ts'
import { create, name } from './index.ts'

runCredentialStyleContract(name, {
  style: create({}),
  carry: (url, credential) => {
    const withToken = new URL(url)
    withToken.searchParams.set('access_token', credential)
    return new Request(withToken)
  },
  malformed: () => null,
})

test('access_token: honoured only on stream routes, and never read from a header', () => {
  const style = create({})
  expect(style.scope).toBe('stream')
  expect(style.read(new Request('http://x.test/?access_token=', {}))).toBe('')
  expect(style.read(new Request('http://x.test/', { headers: { authorization: 'Bearer abc' } }))).toBeNull()
})
