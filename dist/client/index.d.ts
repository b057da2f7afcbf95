import { type Client } from 'openapi-fetch';
import type { paths } from './schema.js';
import type { CallOptions, CreatedMailbox, CreateMailboxBody, Domain, ListMessagesQuery, Mailbox, Message, MessageFilter, MessagePage, MessageSummary, UpdateMailboxBody, WaitForValueOptions, WaitOptions } from './types.js';
import { DEFAULT_WAIT_MS, describeWait } from './wait.js';
export { EphemailProblem, EphemailTimeout } from './errors.js';
export type { components, operations, paths } from './schema.js';
export type * from './types.js';
export { DEFAULT_WAIT_MS, describeWait };
export interface ClientOptions {
    /** Where the API is, e.g. `https://mail.example.com` (paths start with /v1). */
    baseUrl: string;
    /** The admin key or an API key (`eph_…`): sent when no mailbox token applies. */
    key?: string;
    /** A mailbox token (`mbt_…`), used for every call unless one is given per call. */
    token?: string;
    /** A fetch of your own (a test double, a proxy agent), called with a Request; the global one otherwise. */
    fetch?: (request: Request) => Promise<Response>;
    /** Headers sent with every request. */
    headers?: Record<string, string>;
}
/** A raw typed client of every operation in openapi.yaml (openapi-fetch). */
export type ApiClient = Client<paths>;
export interface EphemailClient {
    /** The raw typed openapi-fetch client: every operation, with this client's base URL and headers. */
    readonly api: ApiClient;
    /** Creates a mailbox; its token is remembered, so later calls for its address use it unasked. */
    createMailbox(body?: CreateMailboxBody, options?: CallOptions): Promise<CreatedMailbox>;
    getMailbox(address: string, options?: CallOptions): Promise<Mailbox>;
    updateMailbox(address: string, body: UpdateMailboxBody, options?: CallOptions): Promise<Mailbox>;
    deleteMailbox(address: string, options?: CallOptions): Promise<void>;
    listMailboxes(options?: CallOptions & {
        limit?: number;
    }): Promise<Mailbox[]>;
    listDomains(options?: CallOptions & {
        type?: Domain['type'];
    }): Promise<Domain[]>;
    /** One page of summaries, newest first (`wait` holds an empty page open on the server, in seconds). */
    listMessages(address: string, options?: CallOptions & ListMessagesQuery): Promise<MessagePage>;
    /** Deletes every message of the mailbox; resolves with how many went. */
    clearMailbox(address: string, options?: CallOptions): Promise<number>;
    getMessage(id: string, options?: CallOptions): Promise<Message>;
    /** Exactly the bytes received over SMTP (message/rfc822). */
    getRaw(id: string, options?: CallOptions): Promise<Uint8Array>;
    /** Marks a message seen (or unseen with `seen: false`). */
    markSeen(id: string, options?: CallOptions & {
        seen?: boolean;
    }): Promise<MessageSummary>;
    deleteMessage(id: string, options?: CallOptions): Promise<void>;
    /** The newest message passing `filter` (already there, or the next to arrive), in full, once processed. */
    waitForMessage(address: string, filter: MessageFilter | undefined, options: WaitOptions & {
        nullOnTimeout: true;
    }): Promise<Message | null>;
    waitForMessage(address: string, filter?: MessageFilter, options?: WaitOptions): Promise<Message>;
    /** The one-time code of the newest message that has one (and passes the filter's conditions). */
    waitForOtp(address: string, options: WaitForValueOptions & {
        nullOnTimeout: true;
    }): Promise<string | null>;
    waitForOtp(address: string, options?: WaitForValueOptions): Promise<string>;
    /** The verification, sign-in or reset link of the newest message that has one. */
    waitForLink(address: string, options: WaitForValueOptions & {
        nullOnTimeout: true;
    }): Promise<string | null>;
    waitForLink(address: string, options?: WaitForValueOptions): Promise<string>;
}
export declare function createClient(options: ClientOptions): EphemailClient;
