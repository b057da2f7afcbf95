// Types of the Cloudflare Email Worker script beside it, for the test that runs it.

interface ForwardableEmailMessage {
  readonly from: string
  readonly to: string
  readonly raw: ReadableStream<Uint8Array> | null
  setReject(reason: string): void
}

declare const worker: {
  email(
    message: ForwardableEmailMessage,
    env: { EPHEMAIL_URL: string; EPHEMAIL_INBOUND_SECRET: string },
  ): Promise<void>
}
export default worker
