// Rate-limit plans: the built-in ones, and EPHEMAIL_RATE_PLANS (JSON) parsed over them with errors that name the field.

import type { Plan } from '#core/context.ts'
import { DOMAIN_TYPES, type DomainType } from '#lib/address.ts'

/**
 * Plans every deployment has. `anonymous` meters callers without a key, per client IP; `inbound` meters
 * the routes of HTTP ingest sources (a provider posting mail), per client IP, apart from everyone else.
 */
export const BUILT_IN_PLANS: Readonly<Record<'anonymous' | 'default' | 'admin' | 'inbound', Plan>> = {
  anonymous: {
    requests: 300,
    windowSeconds: 60,
    mailboxesPerHour: 30,
    messagesPerMailbox: 100,
    countFailed: true,
    // Custom domains that should not be open to everyone are registered private to their keys.
    domainTypes: ['public', 'custom'],
  },
  default: {
    requests: 1200,
    windowSeconds: 60,
    mailboxesPerHour: 1000,
    messagesPerMailbox: 500,
    countFailed: true,
    domainTypes: ['public', 'custom'],
  },
  admin: {
    requests: 100_000,
    windowSeconds: 60,
    mailboxesPerHour: 1_000_000,
    messagesPerMailbox: null,
    countFailed: true,
    domainTypes: ['public', 'custom', 'premium'],
  },
  // A provider delivers from a handful of addresses, in bursts: the anonymous plan's 300 a minute would
  // turn a busy minute into 429s and retried mail. Creates no mailboxes; holds none.
  inbound: {
    requests: 6000,
    windowSeconds: 60,
    mailboxesPerHour: 0,
    messagesPerMailbox: null,
    countFailed: true,
    domainTypes: ['public'],
  },
}

const FIELDS: Record<keyof Plan, string> = {
  requests: 'a whole number of requests per window (1..10000000)',
  windowSeconds: 'a whole number of seconds (1..86400)',
  mailboxesPerHour: 'a whole number (0..10000000)',
  messagesPerMailbox: 'a whole number (1..1000000) or null for no limit',
  countFailed: 'true or false',
  domainTypes: `a list drawn from ${DOMAIN_TYPES.join(', ')}`,
}

function wholeNumber(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

function validField(field: keyof Plan, value: unknown): boolean {
  switch (field) {
    case 'requests':
      return wholeNumber(value, 1, 10_000_000)
    case 'windowSeconds':
      return wholeNumber(value, 1, 86_400)
    case 'mailboxesPerHour':
      return wholeNumber(value, 0, 10_000_000)
    case 'messagesPerMailbox':
      return value === null || wholeNumber(value, 1, 1_000_000)
    case 'countFailed':
      return typeof value === 'boolean'
    case 'domainTypes':
      return (
        Array.isArray(value) &&
        value.length > 0 &&
        value.every((type) => DOMAIN_TYPES.includes(type as DomainType))
      )
  }
}

/**
 * The plans of a deployment: the built-in ones, with `raw` (JSON object of plan name → fields) on top.
 * A named plan that is not built in starts from `default`; a built-in one from itself. Throws an Error
 * naming the plan and field.
 */
export function parsePlans(raw: string): Readonly<Record<string, Plan>> {
  const plans: Record<string, Plan> = { ...BUILT_IN_PLANS }
  if (raw.trim() === '') return plans
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (error) {
    throw new Error(`is not valid JSON: ${(error as Error).message}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('must be a JSON object of plan name → {requests, windowSeconds, …}')
  for (const [name, fields] of Object.entries(parsed)) {
    if (!/^[a-z][\w-]{0,63}$/.test(name))
      throw new Error(`plan name "${name}" must be lower-case letters, digits, _ or - (at most 64)`)
    if (fields === null || typeof fields !== 'object' || Array.isArray(fields))
      throw new Error(`plan "${name}" must be an object`)
    const plan: Record<string, unknown> = { ...(plans[name] ?? BUILT_IN_PLANS.default) }
    for (const [field, value] of Object.entries(fields)) {
      if (!(field in FIELDS))
        throw new Error(
          `plan "${name}" has unknown field "${field}" (known: ${Object.keys(FIELDS).join(', ')})`,
        )
      if (!validField(field as keyof Plan, value))
        throw new Error(`plan "${name}": ${field} must be ${FIELDS[field as keyof Plan]}`)
      plan[field] = value
    }
    plans[name] = plan as unknown as Plan
  }
  return plans
}
