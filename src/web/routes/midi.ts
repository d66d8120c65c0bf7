import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MidiService } from '../../midi/midi-service.js';
import {
  MidiLearnRequestSchema,
  MidiMappingInputSchema,
  MidiMappingSchema,
  MidiSettingsPatchSchema,
  MidiSettingsSchema,
  MidiStatusSchema,
} from '../../midi/schema.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const IdParams = Type.Object({ id: Type.String({ pattern: '^[a-z0-9]{1,16}$' }) });

export const midiRoutes: FastifyPluginAsyncTypebox<WebDeps & { midi: MidiService }> = async (app, { midi }) => {
  app.get(
    '/api/midi',
    { schema: { summary: 'MIDI: the input, the mappings, the program list, learn in progress, recent activity and counters', response: { 200: MidiStatusSchema } } },
    async () => midi.status(),
  );

  app.patch(
    '/api/midi',
    {
      schema: {
        summary: 'Change the MIDI input (seq, hw:CARD,DEV or none; restarts the engine) or the program list (preset ids or names by program number)',
        body: MidiSettingsPatchSchema,
        response: { 200: MidiStatusSchema, 400: ErrorSchema },
      },
    },
    async (request) => midi.update(request.body, 'http'),
  );

  app.get('/api/midi/mappings', { schema: { summary: 'The MIDI mappings', response: { 200: Type.Array(MidiMappingSchema) } } }, async () => midi.status().mappings);

  app.post(
    '/api/midi/mappings',
    { schema: { summary: 'Add a MIDI mapping', body: MidiMappingInputSchema, response: { 201: MidiMappingSchema, 400: ErrorSchema } } },
    async (request, reply) => reply.code(201).send(await midi.create(request.body, 'http')),
  );

  app.put(
    '/api/midi/mappings/:id',
    {
      schema: { summary: 'Replace a MIDI mapping', params: IdParams, body: MidiMappingInputSchema, response: { 200: MidiMappingSchema, 400: ErrorSchema, 404: ErrorSchema } },
    },
    async (request) => midi.replace(request.params.id, request.body, 'http'),
  );

  app.delete(
    '/api/midi/mappings/:id',
    { schema: { summary: 'Remove a MIDI mapping', params: IdParams, response: { 204: Type.Null(), 404: ErrorSchema } } },
    async (request, reply) => {
      await midi.remove(request.params.id, 'http');
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/api/midi/learn',
    {
      schema: {
        summary: 'MIDI learn: answers the new mapping once a control moves (a CC for a parameter, a Program Change for presets, a note or CC for a switch), 408 after timeout_ms',
        body: MidiLearnRequestSchema,
        response: { 200: MidiMappingSchema, 400: ErrorSchema, 408: ErrorSchema, 409: ErrorSchema },
      },
    },
    async (request) => midi.learn(request.body, 'http'),
  );

  app.delete(
    '/api/midi/learn',
    { schema: { summary: 'Cancel a MIDI learn that waits', response: { 200: Type.Object({ cancelled: Type.Boolean() }) } } },
    async () => ({ cancelled: midi.cancelLearn() }),
  );

  app.get('/api/midi/activity', { schema: { summary: 'The last 50 MIDI messages, newest first', response: { 200: MidiStatusSchema.properties.activity } } }, async () => midi.status().activity);

  app.get('/api/midi/settings', { schema: { summary: 'Export the MIDI settings (input, mappings, program list)', response: { 200: MidiSettingsSchema } } }, async () =>
    midi.exportSettings(),
  );

  app.put(
    '/api/midi/settings',
    { schema: { summary: 'Import MIDI settings: checked whole, replaces all of them', body: Type.Unknown(), response: { 200: MidiStatusSchema, 400: ErrorSchema } } },
    async (request) => midi.importSettings(request.body, 'http'),
  );
};
