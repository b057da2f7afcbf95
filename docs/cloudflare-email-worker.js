// Cloudflare Email Worker: forwards every message routed to it to Ephemail's POST /v1/inbound/cloudflare, raw.
// Settings (wrangler secrets / vars): EPHEMAIL_URL (https://mail.example.com) and EPHEMAIL_INBOUND_SECRET.
// 422 (no live mailbox) and 413 (too large) reject the message, so the sender gets a bounce; anything else
// (a wrong secret, Ephemail down) throws, a temporary failure: the sending server tries again later.

export default {
  async email(message, env) {
    const query = new URLSearchParams({ to: message.to, from: message.from })
    const response = await fetch(`${env.EPHEMAIL_URL.replace(/\/+$/, '')}/v1/inbound/cloudflare?${query}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.EPHEMAIL_INBOUND_SECRET}`,
        'content-type': 'message/rfc822',
      },
      // The whole message, read first: a stream body would need duplex support on every runtime.
      body: await new Response(message.raw).arrayBuffer(),
    })
    if (response.status === 202) return
    const problem = await response.json().catch(() => ({}))
    const reason = problem.detail ?? `HTTP ${response.status}`
    if (response.status === 422 || response.status === 413) {
      message.setReject(reason)
      return
    }
    throw new Error(`Ephemail did not store the message: ${reason}`)
  },
}
