import type { CallOptions, Mailbox, Message, MessageFilter, MessagePage, WaitOptions } from './types.js';
/** How long a wait lasts when the caller does not say: long enough for a slow mail server, short for a test. */
export declare const DEFAULT_WAIT_MS = 30000;
/** What a message is known to hold once processed, from a list item or a `message.processed` event. */
export interface Candidate {
    id: string;
    from: {
        address: string;
        name: string;
    } | null;
    subject: string | null;
    receivedAt: string;
    otp: string | null;
    link: string | null;
}
/** The calls a wait makes, bound to the client's credential and base URL. */
export interface WaitDeps {
    openEvents(address: string, lastEventId: string | null, call: CallOptions): Promise<ReadableStream<Uint8Array>>;
    listMessages(address: string, query: {
        limit: number;
        after?: string;
    }, call: CallOptions): Promise<MessagePage>;
    getMessage(id: string, call: CallOptions): Promise<Message>;
    getMailbox(address: string, call: CallOptions): Promise<Mailbox>;
}
/** What a wait is for: its name in a timeout's message, and the value a processed message yields (or null). */
export interface Wanted<T> {
    what: string;
    take(candidate: Candidate, full: () => Promise<Message>): Promise<T | null>;
}
/** "one-time code from no-reply@acme.example with subject "Verify"": what a timeout says was awaited. */
export declare function describeWait(what: string, filter: MessageFilter): string;
/**
 * Resolves with the first value `wanted` takes from a message of `address` that passes `filter`: the
 * newest one already there, else the next to arrive. The event stream is opened before the mailbox is
 * listed, so mail landing in between is on the stream rather than missed; a message still being
 * processed is waited for (its `message.processed` event) before it is judged, and judged newest first.
 */
export declare function waitFor<T>(deps: WaitDeps, address: string, wanted: Wanted<T>, filter: MessageFilter, options: WaitOptions): Promise<T | null>;
