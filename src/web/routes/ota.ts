import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OtaService } from '../../ota/ota-service.js';
import { OtaError } from '../../ota/rauc.js';
import { BundleCheckSchema, ChannelStatusSchema, OtaStatusSchema, UpdateSettingsPatchSchema, UpdateSettingsSchema } from '../../ota/schema.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const BUNDLE = 'application/octet-stream';
// The body is the bundle itself, streamed to the data partition as it arrives.
// Its schema is for OpenAPI: `format` constrains strings only, so the stream
// passes validation untouched; rauc checks the content.
const bundleBody = {
  consumes: [BUNDLE],
  body: Type.Unsafe<unknown>({ format: 'binary', description: 'the bundle (.raucb)' }),
};
const BundleErrors = { 400: ErrorSchema, 408: ErrorSchema, 409: ErrorSchema, 413: ErrorSchema, 415: ErrorSchema, 422: ErrorSchema, 503: ErrorSchema, 507: ErrorSchema };
const DownloadErrors = { ...BundleErrors, 502: ErrorSchema, 504: ErrorSchema };

function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const n = Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The request body as the stream of the bundle; anything else (a JSON body) is the wrong type. */
function bundleStream(body: unknown): Readable | undefined {
  if (body === undefined || body === null || body instanceof Readable) return body ?? undefined;
  throw new OtaError('unsupported_media_type', `send the bundle as ${BUNDLE}`, 415);
}

export const otaRoutes: FastifyPluginAsyncTypebox<WebDeps & { ota: OtaService }> = async (app, { ota }) => {
  // The bundle stays a stream: OtaService writes it to a file of its own, within its size limit.
  app.addContentTypeParser(BUNDLE, (_request, payload, done) => done(null, payload));
  // A refused upload is not read to its end (it may be a gigabyte): the connection closes after the answer
  // rather than carry the rest of the body into the next request.
  app.addHook('onSend', async (request, reply) => {
    if (request.method === 'POST' && reply.statusCode >= 400) reply.header('connection', 'close');
  });

  app.get(
    '/api/ota',
    {
      schema: {
        summary: 'Firmware version, the RAUC slots (on a box), the install in progress and the last install attempt',
        response: { 200: OtaStatusSchema },
      },
    },
    async () => ota.status(),
  );

  app.post(
    '/api/ota/check',
    {
      schema: {
        summary: 'Verify an update bundle and say what installing it would do; nothing is kept or installed',
        description:
          'Body: the .raucb file as application/octet-stream. Checked with rauc: the signature against the keyring of this box, ' +
          'every block of the payload against its signed hash tree, the compatible against this box, the version ' +
          '(action: upgrade, reinstall or downgrade against the running firmware).',
        ...bundleBody,
        response: { 200: BundleCheckSchema, ...BundleErrors },
      },
    },
    async (request) => ota.check(bundleStream(request.body), declaredLength(request.headers['content-length'])),
  );

  app.post(
    '/api/ota/install',
    {
      // A new (or older) firmware: the owner's password within the last 5 minutes, never a token.
      config: { confirm: true },
      schema: {
        summary: 'Verify an update bundle and install it to the inactive slot (only on a box with a RAUC system)',
        description:
          'Body: the .raucb file as application/octet-stream. Verified as /api/ota/check does, then `rauc install`; answers 202 ' +
          'once the install has started, with progress and result in GET /api/ota. A bundle older than the running firmware ' +
          'is refused unless allowDowngrade=true. On a machine without RAUC (a developer machine) it answers 409 rauc_unavailable.',
        ...bundleBody,
        querystring: Type.Object({
          allowDowngrade: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'install an older version' })),
        }),
        response: { 202: BundleCheckSchema, ...BundleErrors },
      },
    },
    async (request, reply) => {
      const check = await ota.install(bundleStream(request.body), declaredLength(request.headers['content-length']), {
        allowDowngrade: request.query.allowDowngrade === 'true',
      });
      return reply.code(202).send(check);
    },
  );

  app.post(
    '/api/ota/install-url',
    {
      config: { confirm: true },
      schema: {
        summary: 'Download an update bundle from a URL to the data partition, verify it and install it to the inactive slot',
        description:
          'The download is capped at maxBundleBytes, abandoned when the server sends nothing for a while, and checked against ' +
          'sha256 when given, before rauc sees it. Answers 202 once the install has started (progress in GET /api/ota and on ' +
          '/ws/telemetry as {type: "ota"}).',
        body: Type.Object(
          {
            url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL of the .raucb' }),
            sha256: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
            allowDowngrade: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 202: BundleCheckSchema, ...DownloadErrors },
      },
    },
    async (request, reply) => {
      const { url, sha256, allowDowngrade } = request.body;
      const check = await ota.installFromUrl(url, { sha256, allowDowngrade: allowDowngrade ?? false });
      return reply.code(202).send(check);
    },
  );

  app.post(
    '/api/ota/channel/check',
    {
      schema: {
        summary: "Fetch the update channel's manifest now: the latest version it offers and whether it is newer than this box's",
        response: { 200: ChannelStatusSchema, 409: ErrorSchema, 413: ErrorSchema, 502: ErrorSchema, 504: ErrorSchema },
      },
    },
    async () => ota.checkChannel(),
  );

  app.post(
    '/api/ota/channel/install',
    {
      // What the owner's channel offers may be installed by automation (a token); going back a version may not.
      config: { confirm: (request) => (request.body as { allowDowngrade?: boolean } | undefined)?.allowDowngrade === true },
      schema: {
        summary: 'Download, verify and install the version the update channel offers (checked again first)',
        body: Type.Optional(Type.Object({ allowDowngrade: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
        response: { 202: BundleCheckSchema, ...DownloadErrors },
      },
    },
    async (request, reply) => reply.code(202).send(await ota.installFromChannel({ allowDowngrade: request.body?.allowDowngrade ?? false })),
  );

  app.get(
    '/api/ota/settings',
    { schema: { summary: 'Update settings (kept on the data partition): channel, check interval, auto-install, reboot policy', response: { 200: UpdateSettingsSchema } } },
    async () => ota.updateSettings(),
  );

  app.put(
    '/api/ota/settings',
    {
      schema: {
        summary: 'Change update settings; the fields given replace the ones kept',
        body: UpdateSettingsPatchSchema,
        response: { 200: UpdateSettingsSchema, 400: ErrorSchema },
      },
    },
    async (request) => ota.setUpdateSettings(request.body),
  );

  app.post(
    '/api/ota/reboot',
    {
      schema: {
        summary: 'Reboot the box (into the installed update when there is one); only on a box with a RAUC system',
        response: { 202: Type.Object({ rebooting: Type.Literal(true), into: Type.Union([Type.String(), Type.Null()]) }), 409: ErrorSchema, 500: ErrorSchema },
      },
    },
    async (_request, reply) => reply.code(202).send(await ota.reboot()),
  );
};
