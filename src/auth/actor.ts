import { AsyncLocalStorage } from 'node:async_hooks';
import { Type, type Static } from '@sinclair/typebox';

/** Who asked for a change: the owner (page or shell), a token by its name, and from where. */
export const ActorSchema = Type.Object({
  user: Type.Optional(Type.Literal('owner')),
  token: Type.Optional(Type.String({ description: "the token's name" })),
  via: Type.Union([Type.Literal('session'), Type.Literal('token'), Type.Literal('socket'), Type.Literal('anonymous')]),
  address: Type.Optional(Type.String({ description: 'client address (absent on the Unix socket)' })),
});
export type Actor = Static<typeof ActorSchema>;

const storage = new AsyncLocalStorage<Actor>();

/** Run `fn` (and everything it starts) on behalf of `actor`. */
export function runAs<T>(actor: Actor, fn: () => T): T {
  return storage.run(actor, fn);
}

/** The actor of the request being handled, if any (MQTT commands and start-up have none: their source says it). */
export function currentActor(): Actor | undefined {
  return storage.getStore();
}

/** "owner@192.168.1.5", "token ha@10.0.0.3", "owner (socket)". */
export function describeActor(a: Actor): string {
  const who = a.token !== undefined ? `token ${a.token}` : (a.user ?? 'anonymous');
  return a.via === 'socket' ? `${who} (socket)` : `${who}@${a.address ?? '?'}`;
}
