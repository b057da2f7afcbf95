// Test helper: a tiny authoritative DNS server on loopback UDP that answers MX queries (RFC 1035) from a table.

import { createSocket, type RemoteInfo } from 'node:dgram'

const TYPE_MX = 15
const CLASS_IN = 1
const RCODE_SERVFAIL = 2
const RCODE_NXDOMAIN = 3

/**
 * What a name answers: its MX records (an empty list is NOERROR with no answer, i.e. ENODATA), or
 * 'servfail'. Names not in the table are NXDOMAIN. Queries of other types get NOERROR without answers.
 */
export type MxTable = Map<string, { exchange: string; priority: number }[] | 'servfail'>

export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:<port>`, for Resolver.setServers and EPHEMAIL_DOMAIN_DNS_SERVERS. */
  readonly address: string
  readonly table: MxTable
  /** Names asked for, in order, lower-cased. */
  readonly queries: string[]
  close(): Promise<void>
}

function readName(message: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = []
  let offset = start
  for (;;) {
    const length = message[offset]
    if (length === undefined) throw new Error('truncated name')
    if (length === 0) return { name: labels.join('.'), end: offset + 1 }
    // Queries carry no compression pointers; a client that sent one gets FORMERR by the throw.
    if (length >= 0xc0) throw new Error('compressed question name')
    labels.push(message.subarray(offset + 1, offset + 1 + length).toString('latin1'))
    offset += 1 + length
  }
}

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter((label) => label.length > 0)
  return Buffer.concat([
    ...parts.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])),
    Buffer.from([0]),
  ])
}

function answer(query: Buffer, table: MxTable, queries: string[]): Buffer {
  const id = query.readUInt16BE(0)
  const flags = query.readUInt16BE(2)
  const { name, end } = readName(query, 12)
  const qtype = query.readUInt16BE(end)
  const question = query.subarray(12, end + 4)
  const lower = name.toLowerCase()
  queries.push(lower)
  const entry = table.get(lower)
  const rcode = entry === undefined ? RCODE_NXDOMAIN : entry === 'servfail' ? RCODE_SERVFAIL : 0
  const records = Array.isArray(entry) && qtype === TYPE_MX ? entry : []
  const answers = records.map((record) => {
    const exchange = encodeName(record.exchange)
    const fixed = Buffer.alloc(12)
    fixed.writeUInt16BE(0xc00c, 0) // the question's name, by pointer
    fixed.writeUInt16BE(TYPE_MX, 2)
    fixed.writeUInt16BE(CLASS_IN, 4)
    fixed.writeUInt32BE(60, 6) // TTL
    fixed.writeUInt16BE(2 + exchange.length, 10)
    const preference = Buffer.alloc(2)
    preference.writeUInt16BE(record.priority, 0)
    return Buffer.concat([fixed, preference, exchange])
  })
  const header = Buffer.alloc(12)
  header.writeUInt16BE(id, 0)
  // QR, the query's opcode and RD, AA and RA set, then the response code.
  header.writeUInt16BE(0x8000 | (flags & 0x7900) | 0x0400 | 0x0080 | rcode, 2)
  header.writeUInt16BE(1, 4)
  header.writeUInt16BE(answers.length, 6)
  return Buffer.concat([header, question, ...answers])
}

export async function startTestDnsServer(table: MxTable = new Map()): Promise<TestDnsServer> {
  const socket = createSocket('udp4')
  const queries: string[] = []
  socket.on('message', (message: Buffer, peer: RemoteInfo) => {
    let reply: Buffer
    try {
      reply = answer(message, table, queries)
    } catch {
      // FORMERR with the query's id, when at least the header arrived.
      if (message.length < 12) return
      reply = Buffer.alloc(12)
      reply.writeUInt16BE(message.readUInt16BE(0), 0)
      reply.writeUInt16BE(0x8001, 2)
    }
    socket.send(reply, peer.port, peer.address)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => resolve())
  })
  const { port } = socket.address()
  return {
    port,
    address: `127.0.0.1:${port}`,
    table,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}
