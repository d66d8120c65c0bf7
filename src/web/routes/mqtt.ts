import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NotFoundError } from '../../errors.js';
import { readBrokerCredentials } from '../../mqtt/broker-credentials.js';
import type { WebDeps } from '../app.js';
import { ErrorSchema } from '../schemas.js';

const CredentialsSchema = Type.Object({
  username: Type.String(),
  password: Type.String(),
  port: Type.Integer({ description: "the box's broker port" }),
});

export const mqttRoutes: FastifyPluginAsyncTypebox<WebDeps> = async (app, { ctx }) => {
  app.get(
    '/api/mqtt/credentials',
    {
      schema: {
        summary: "The login for Home Assistant and other clients on the box's own broker (made at first boot); the owner's only",
        description: 'Clients may publish <base>/set, <base>/request/… and homeassistant/status, and read everything under hushbox/ and homeassistant/.',
        response: { 200: CredentialsSchema, 404: ErrorSchema },
      },
    },
    async () => {
      const c = readBrokerCredentials(ctx.dataDir);
      if (!c) throw new NotFoundError("this box's broker has no users (it is not the box's own broker, or `hushbox mqtt-credentials` has not run)");
      return { username: c.client.username, password: c.client.password, port: 1883 };
    },
  );
};
