import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { tempDir } from '../fakes/temp-context.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => (tmp = tempDir()));
afterEach(() => tmp.cleanup());

describe('mqtt configuration', () => {
  it('defaults to a broker on the box itself, discovery under homeassistant', () => {
    const c = loadConfig({ dataDir: tmp.dir, env: {} });
    expect(c.mqtt).toMatchObject({ enabled: true, url: 'mqtt://localhost:1883', baseTopic: '', discoveryPrefix: 'homeassistant', localBroker: false });
  });

  it('takes HUSHBOX_MQTT_URL over the file and refuses a URL that is not MQTT', () => {
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify({ mqtt: { url: 'mqtt://file:1883', enabled: false } }));
    const c = loadConfig({ dataDir: tmp.dir, env: { HUSHBOX_MQTT_URL: 'mqtt://user:pass@broker.lan:1884' } });
    expect(c.mqtt).toMatchObject({ url: 'mqtt://user:pass@broker.lan:1884', enabled: true });
    expect(() => loadConfig({ dataDir: tmp.dir, env: { HUSHBOX_MQTT_URL: 'http://x' } })).toThrow(/HUSHBOX_MQTT_URL: expected an mqtt:\/\//);
    expect(() => loadConfig({ dataDir: tmp.dir, env: { HUSHBOX_MQTT_URL: 'nonsense' } })).toThrow(/HUSHBOX_MQTT_URL: not a URL/);
  });

  it('names the wrong field in the mqtt section', () => {
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify({ mqtt: { discoveryPrefix: '' } }));
    expect(() => loadConfig({ dataDir: tmp.dir, env: {} })).toThrow(/\/mqtt\/discoveryPrefix/);
  });

  it("takes the front panel's settings (box-settings.json) over the file, the environment over both; '' clears a login", () => {
    writeFileSync(join(tmp.dir, 'config.json'), JSON.stringify({ name: 'from file', mqtt: { url: 'mqtt://file:1883', username: 'fileuser', password: 'filepass' } }));
    writeFileSync(join(tmp.dir, 'box-settings.json'), JSON.stringify({ name: 'Studio', mqtt: { url: 'mqtt://page:1883', username: '', password: '' } }));
    const c = loadConfig({ dataDir: tmp.dir, env: {} });
    expect(c.name).toBe('Studio');
    expect(c.mqtt.url).toBe('mqtt://page:1883');
    expect(c.mqtt.username).toBeUndefined();
    expect(c.mqtt.password).toBeUndefined();
    writeFileSync(join(tmp.dir, 'box-settings.json'), JSON.stringify({ mqtt: { username: 'pageuser', password: 'pagepass' } }));
    expect(loadConfig({ dataDir: tmp.dir, env: {} }).mqtt).toMatchObject({ url: 'mqtt://file:1883', username: 'pageuser', password: 'pagepass' });
    expect(loadConfig({ dataDir: tmp.dir, env: { HUSHBOX_MQTT_URL: 'mqtt://env:1883' } }).mqtt.url).toBe('mqtt://env:1883');
    // An empty HUSHBOX_MQTT_URL is unset; a settings file that does not fit is ignored whole.
    expect(loadConfig({ dataDir: tmp.dir, env: { HUSHBOX_MQTT_URL: '' } }).mqtt.url).toBe('mqtt://file:1883');
    writeFileSync(join(tmp.dir, 'box-settings.json'), JSON.stringify({ name: '', mqtt: { url: 'http://nope' } }));
    expect(loadConfig({ dataDir: tmp.dir, env: {} })).toMatchObject({ name: 'from file', mqtt: { url: 'mqtt://file:1883', username: 'fileuser' } });
  });
});
