import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const TokenRecordSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** sha256 (hex) of the secret: the secret itself is shown once and never stored. */
  hash: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  created: Type.String(),
  lastUsed: Type.Union([Type.String(), Type.Null()]),
});
export type TokenRecord = Static<typeof TokenRecordSchema>;

/** `<data>/auth.json` (0600): the owner's password hash, the API tokens, who may read /metrics. */
export const AuthFileSchema = Type.Object({
  schema: Type.Literal(1),
  owner: Type.Union([Type.Object({ hash: Type.String(), changed: Type.String() }), Type.Null()]),
  tokens: Type.Array(TokenRecordSchema),
  metricsPublic: Type.Boolean(),
});
export type AuthFile = Static<typeof AuthFileSchema>;

export const emptyAuthFile = (): AuthFile => ({ schema: 1, owner: null, tokens: [], metricsPublic: false });

/** Read auth.json: the content, undefined when there is none, or an Error saying what is wrong with it. */
export function readAuthFile(file: string): AuthFile | undefined | Error {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return err as Error;
  }
  try {
    const v: unknown = JSON.parse(text);
    if (Value.Check(AuthFileSchema, v)) return v;
    const e = [...Value.Errors(AuthFileSchema, v)][0];
    return new Error(`${e?.path || '/'}: ${e?.message}`);
  } catch (err) {
    return err as Error;
  }
}
