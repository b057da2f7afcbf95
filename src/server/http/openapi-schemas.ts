// What the OpenAPI generator emits for a schema or a parameter, restated as the document should say it.

export type Schema = { [keyword: string]: unknown }
export type Parameter = {
  name: string
  in: string
  description?: string
  example?: unknown
  schema?: Schema
}

/** The string branch Elysia puts before a coercing number (`t.Integer`, `t.Numeric`): a numeric string. */
const isNumericString = (schema: unknown) => {
  const { type, format } = (schema ?? {}) as Schema
  return type === 'string' && (format === 'integer' || format === 'numeric')
}

const SUBSCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf', 'prefixItems']
const SUBSCHEMAS = ['items', 'not', 'contains', 'additionalProperties']
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs']

/**
 * A schema as the document states it. A coercing number is its number branch: the value is an integer,
 * and that a query string's text is turned into one is the server's business (as `string | integer`,
 * generated clients type it `string | number`, and its `default: 0` is not a string). Elysia's `error`
 * keyword (the message a bad value gets) is not JSON Schema.
 */
export function documentedSchema(schema: Schema): Schema {
  let result: Schema = { ...schema }
  const branches = result.anyOf
  if (Array.isArray(branches) && branches.length === 2 && branches.some(isNumericString)) {
    const number = branches.find((branch) => !isNumericString(branch)) as Schema | undefined
    if (number?.type === 'integer' || number?.type === 'number') {
      const { anyOf: _coercion, ...outer } = result
      result = { ...outer, ...number }
    }
  }
  delete result.error
  // OpenAPI 3.0's `nullable` (t.Nullable adds it) is not a 3.1 keyword: the type array already says null.
  delete result.nullable
  for (const key of SUBSCHEMA_LISTS)
    if (Array.isArray(result[key])) result[key] = (result[key] as Schema[]).map(documentedSchema)
  for (const key of SUBSCHEMAS)
    if (isObject(result[key])) result[key] = documentedSchema(result[key] as Schema)
  for (const key of SUBSCHEMA_MAPS)
    if (isObject(result[key]))
      result[key] = Object.fromEntries(
        Object.entries(result[key] as Record<string, Schema>).map(([name, sub]) => [
          name,
          documentedSchema(sub),
        ]),
      )
  return result
}

export const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The generator puts a parameter's description and examples inside its schema, where Swagger UI does not
 * show them: they belong to the parameter object.
 */
export function documentedParameter({
  name,
  in: location,
  schema: declared,
  ...parameter
}: Parameter): Parameter {
  const { description, examples, ...schema } = documentedSchema(declared ?? {})
  const example = Array.isArray(examples) ? examples[0] : undefined
  return {
    name,
    in: location,
    ...(typeof description === 'string' ? { description } : {}),
    ...parameter,
    ...(example !== undefined ? { example } : {}),
    schema,
  }
}
