import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  AbDiffSchema,
  AbStateSchema,
  ApplyResultSchema,
  ImportReportSchema,
  LocksSchema,
  PresetEntrySchema,
  type PresetsService,
} from '../../presets/presets-service.js';
import { BundleSchema, CollisionPolicySchema, PresetIdSchema, PresetInputSchema, PresetPatchSchema } from '../../presets/schema.js';
import { AbSlotSchema, BoxStateSchema } from '../../presets/state.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const IdParams = Type.Object({ id: Type.String({ description: 'preset id' }) });
const Saved = Type.Object({ preset: PresetEntrySchema, warnings: Type.Array(Type.String()) });
const Errors = { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema };

export const presetsRoutes: FastifyPluginAsyncTypebox<WebDeps & { presets: PresetsService }> = async (app, { presets }) => {
  app.get('/api/presets', { schema: { summary: 'Every preset, factory ones first', response: { 200: Type.Array(PresetEntrySchema) } } }, async () =>
    presets.list(),
  );

  app.get(
    '/api/presets/schema',
    { schema: { summary: "JSON schema of a preset's params for the running engine (ids and ranges from its parameter table)" } },
    async () => presets.paramsSchema(),
  );

  app.get(
    '/api/presets/export',
    {
      schema: {
        summary: 'A bundle of presets (all user presets, or the ids given)',
        querystring: Type.Object({ ids: Type.Optional(Type.String({ description: 'comma-separated preset ids' })) }),
        response: { 200: BundleSchema, 404: ErrorSchema },
      },
    },
    async (request) => presets.exportBundle(request.query.ids?.split(',').filter(Boolean)),
  );

  app.post(
    '/api/presets/import',
    {
      schema: {
        summary: 'Import a bundle (any schema version, migrated); dryRun reports what would happen and changes nothing',
        querystring: Type.Object({
          dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('1'), Type.Literal('0')], { description: 'report only; change nothing' })),
          collision: Type.Optional(CollisionPolicySchema),
        }),
        body: Type.Union([
          Type.Object({ format: Type.Optional(Type.String()), presets: Type.Array(Type.Unknown(), { maxItems: 1000 }) }),
          Type.Array(Type.Unknown(), { maxItems: 1000 }),
        ]),
        response: { 200: ImportReportSchema, ...Errors },
      },
    },
    async (request) => presets.importBundle(request.body, { dryRun: request.query.dryRun === 'true' || request.query.dryRun === '1', collision: request.query.collision ?? 'copy' }, 'http'),
  );

  app.get('/api/presets/locks', { schema: { summary: 'Parameters no preset recall touches', response: { 200: LocksSchema } } }, async () => presets.locks());

  app.put(
    '/api/presets/locks',
    {
      schema: {
        summary: 'Set the locked parameters (stored on the data partition)',
        body: LocksSchema,
        response: { 200: Type.Object({ locked: Type.Array(Type.String()), warnings: Type.Array(Type.String()) }), 400: ErrorSchema },
      },
    },
    async (request) => presets.setLocks(request.body, 'http'),
  );

  app.get('/api/state', { schema: { summary: 'The state as MQTT publishes it on <base>/state', response: { 200: BoxStateSchema } } }, async () =>
    presets.state(),
  );

  app.post(
    '/api/presets',
    {
      schema: {
        summary: 'Create a preset; without params it saves the current state',
        body: PresetInputSchema,
        response: { 201: Saved, ...Errors },
      },
    },
    async (request, reply) => reply.code(201).send(presets.create(request.body, 'http')),
  );

  app.get('/api/presets/:id', { schema: { summary: 'One preset', params: IdParams, response: { 200: PresetEntrySchema, 404: ErrorSchema } } }, async (request) =>
    presets.get(request.params.id),
  );

  app.put(
    '/api/presets/:id',
    {
      schema: {
        summary: 'Change a user preset (name, tags, notes, params)',
        params: Type.Object({ id: PresetIdSchema }),
        body: PresetPatchSchema,
        response: { 200: Saved, ...Errors },
      },
    },
    async (request) => presets.update(request.params.id, request.body, 'http'),
  );

  app.delete(
    '/api/presets/:id',
    { schema: { summary: 'Delete a user preset', params: IdParams, response: { 204: Type.Null(), ...Errors } } },
    async (request, reply) => {
      presets.remove(request.params.id, 'http');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/presets/:id/apply',
    {
      schema: {
        summary: 'Recall a preset (id or name) in one ramped batch; parameters the engine lacks are reported, not applied',
        params: Type.Object({ id: Type.String({ description: 'preset id or name' }) }),
        response: { 200: ApplyResultSchema, ...Errors },
      },
    },
    async (request) => presets.apply(request.params.id, 'http'),
  );

  app.get(
    '/api/ab',
    { schema: { summary: 'A/B slots, the active one, and what differs', response: { 200: Type.Composite([AbStateSchema, Type.Object({ diff: AbDiffSchema })]) } } },
    async () => ({ ...presets.abState(), diff: presets.abDiff() }),
  );

  app.get('/api/ab/diff', { schema: { summary: 'Parameters that differ between A and B', response: { 200: AbDiffSchema } } }, async () => presets.abDiff());

  app.post(
    '/api/ab/:slot/store',
    { schema: { summary: 'Store the current state in slot A or B', params: Type.Object({ slot: AbSlotSchema }), response: { 200: AbStateSchema, ...Errors } } },
    async (request) => presets.abStore(request.params.slot, 'http'),
  );

  app.post(
    '/api/ab/:slot/recall',
    { schema: { summary: 'Recall slot A or B', params: Type.Object({ slot: AbSlotSchema }), response: { 200: ApplyResultSchema, ...Errors } } },
    async (request) => presets.abRecall(request.params.slot, 'http'),
  );

  app.post(
    '/api/ab/toggle',
    {
      schema: {
        summary: 'Switch to the other slot',
        response: { 200: Type.Composite([ApplyResultSchema, Type.Object({ active: AbSlotSchema })]), ...Errors },
      },
    },
    async () => presets.abToggle('http'),
  );
};
