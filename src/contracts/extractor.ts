// Extractor contract: finds the one-time code and the verification link of a parsed message.

import type { ExtractInput, Extraction } from '#lib/extract/index.ts'

export interface ExtractorInput extends ExtractInput {
  /** The From address, for sender-specific rules (and the brand the extractor leaves out of the subject). */
  fromAddress: string | null
}

export interface Extractor {
  readonly name: string
  extract(input: ExtractorInput): Extraction
}

/** Every extractor plugin exports `create` of this type. */
export type ExtractorFactory<Options> = (options: Options) => Extractor
