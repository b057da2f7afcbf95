// Test helper for walking the OpenAPI document: every operation, its path filled with one mailbox's
// resources, and a minimal valid body sampled from its request schema.

// biome-ignore lint/suspicious/noExplicitAny: the document is arbitrary JSON read at run time
type Schema = Record<string, any>

export interface Operation {
  method: string
  path: string
  /** Path parameter names in order, e.g. ['id', 'attachmentId']. */
  params: string[]
  operation: Schema
}

/** The resources of one mailbox that paths and bodies are filled with. */
export interface MailboxWorld {
  address: string
  token: string
  messageId: string
  attachmentId: string
  webhookId: string
  /** The API key that created the mailbox (and so owns it, its messages and its webhook). */
  keyId: string
  key: string
  /** A domain registered through the admin API (the admin routes' `{name}`). */
  domain: string
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']

/** Every path × method of the document, in document order; nothing is skipped. */
export function listOperations(document: Schema): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries<Schema>(document.paths ?? {}))
    for (const method of HTTP_METHODS)
      if (item[method])
        operations.push({
          method: method.toUpperCase(),
          path,
          params: [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1] as string),
          operation: item[method],
        })
  return operations
}

/** A WebSocket route is documented as a GET whose only success is 101 Switching Protocols. */
export const isWebSocket = (operation: Operation) => Object.hasOwn(operation.operation.responses ?? {}, '101')

/**
 * The path with each parameter replaced by the world's resource. `{id}` means the resource named by the
 * first segment after /v1; a parameter this function does not know throws, so a new route with a new
 * kind of parameter fails the walk until someone says what it stands for.
 */
export function fillPath(operation: Operation, world: MailboxWorld): string {
  return operation.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name === 'address') return encodeURIComponent(world.address)
    if (name === 'attachmentId') return world.attachmentId
    if (name === 'name' && operation.path.startsWith('/v1/admin/domains/')) return world.domain
    if (name === 'id') {
      const resource = operation.path.split('/')[2]
      if (resource === 'messages') return world.messageId
      if (resource === 'webhooks') return world.webhookId
      if (operation.path.startsWith('/v1/admin/keys/')) return world.keyId
    }
    throw new Error(`${operation.method} ${operation.path}: no resource known for {${name}}`)
  })
}

/**
 * Values the schema cannot give: the webhook URL must pass this deployment's outbound address policy
 * (the document's example, example.com, needs DNS that tests do not have).
 */
export interface SampleOverrides {
  webhookUrl: string
}

/**
 * A minimal valid JSON body for the operation, or undefined when it takes none: the required properties,
 * enough optional ones to satisfy minProperties, and always `address` when the schema has it, set to the
 * world's mailbox, so the request is about that mailbox (a mailbox token's default would otherwise be its own).
 */
export function sampleBody(operation: Operation, world: MailboxWorld, overrides: SampleOverrides): unknown {
  const content = operation.operation.requestBody?.content
  if (!content) return undefined
  const schema = content['application/json']?.schema
  if (!schema)
    throw new Error(
      `${operation.method} ${operation.path}: only JSON bodies are sampled (${Object.keys(content)})`,
    )
  return sample(schema, '', world, overrides)
}

function sample(schema: Schema, name: string, world: MailboxWorld, overrides: SampleOverrides): unknown {
  if (name === 'address') return world.address
  if (name === 'url') return overrides.webhookUrl
  if (schema.const !== undefined) return schema.const
  if (schema.type === 'object' || schema.properties) {
    const properties: Record<string, Schema> = schema.properties ?? {}
    const chosen = new Set<string>(schema.required ?? [])
    if ('address' in properties) chosen.add('address')
    for (const key of Object.keys(properties)) if (chosen.size < (schema.minProperties ?? 0)) chosen.add(key)
    return Object.fromEntries(
      [...chosen].map((key) => [key, sample(properties[key] ?? {}, key, world, overrides)]),
    )
  }
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0]
  if (schema.example !== undefined) return schema.example
  if (Array.isArray(schema.enum)) return schema.enum[0]
  const branches = schema.anyOf ?? schema.oneOf
  if (Array.isArray(branches)) return sample(branches[0], name, world, overrides)
  switch (schema.type) {
    case 'boolean':
      return true
    case 'integer':
    case 'number':
      return schema.minimum ?? 1
    case 'array':
      return []
    case 'string':
      return 'x'.repeat(schema.minLength ?? 1)
    default:
      throw new Error(`cannot sample a value for ${name || 'the body'}: ${JSON.stringify(schema)}`)
  }
}

export interface WalkResponse {
  status: number
  headers: Headers
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  json: any
}

/**
 * One request through `app.handle`. An event stream is not read (it never ends): its status and headers
 * are what counts, and the body is cancelled so the stream closes.
 */
export async function send(
  app: { handle(request: Request): Promise<Response> },
  method: string,
  path: string,
  { bearer, body }: { bearer?: string; body?: unknown } = {},
): Promise<WalkResponse> {
  const headers: Record<string, string> = {}
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const request = new Request(`http://localhost${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const response = await app.handle(request)
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel()
    return { status: response.status, headers: response.headers, text: '', json: null }
  }
  const text = await response.text()
  let json: unknown = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {}
  return { status: response.status, headers: response.headers, text, json }
}
