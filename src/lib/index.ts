// The edge-agnostic library: web standards only, so it bundles for browsers and runs on Node, Bun and workers.

export * from './address.ts'
export * from './events.ts'
export * from './extract/index.ts'
export * from './group-commit.ts'
export * from './ids.ts'
export * from './mail.ts'
export * from './problem.ts'
export * from './sanitize.ts'
export * from './types.ts'
