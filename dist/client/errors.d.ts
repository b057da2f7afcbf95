import type { Problem } from './types.js';
/** A non-2xx answer: `problem` is the API's problem+json (or one made from the status when the body is not). */
export declare class EphemailProblem extends Error {
    readonly name = "EphemailProblem";
    readonly status: number;
    readonly problem: Problem;
    constructor(problem: Problem, options?: {
        cause?: unknown;
    });
    /** The stable kind of problem, e.g. `not-found` (the last segment of `problem.type`). */
    get slug(): string;
}
/** A wait that ended without the message it waited for; the message says where, what and how long. */
export declare class EphemailTimeout extends Error {
    /** The mailbox address that was watched. */
    readonly mailbox: string;
    /** What was awaited, e.g. `one-time code` or `message with subject "Welcome"`. */
    readonly waitedFor: string;
    readonly timeoutMs: number;
    readonly name = "EphemailTimeout";
    constructor(
    /** The mailbox address that was watched. */
    mailbox: string, 
    /** What was awaited, e.g. `one-time code` or `message with subject "Welcome"`. */
    waitedFor: string, timeoutMs: number);
}
/** The problem of a failed response: its problem+json when it is one, else one built from the status and text. */
export declare function problemOf(response: Response, body: unknown): EphemailProblem;
