/** One dispatched event: its `id:` (the last one seen, as the spec keeps it), `event:` name and joined `data:`. */
export interface SseFrame {
    id: string | null;
    event: string;
    data: string;
}
/**
 * The frames of a stream, in order, as the WHATWG parsing rules give them (comments such as the
 * server's keep-alives are skipped). Returning early cancels the body, which closes the connection.
 */
export declare function readSseFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame>;
