import { describe, expect, it } from 'vitest';
import { compareVersions, isVersion } from '../../src/ota/version.js';

describe('bundle versions', () => {
  it('accepts MAJOR.MINOR.PATCH with a pre-release or git-describe suffix', () => {
    for (const v of ['0.1.0', '1.2.3-rc.1', '1.2.3-4-gabc1234-dirty', '1.0.0+build.5']) expect(isVersion(v), v).toBe(true);
    for (const v of ['1.0', 'v1.0.0', '1.0.0.0', '', '01.0.0x']) expect(isVersion(v), v).toBe(false);
  });

  it('orders versions as semantic versioning does', () => {
    const sorted = ['0.1.0', '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0', '1.0.1', '1.10.0', '2.0.0'];
    const shuffled = [...sorted].reverse();
    expect(shuffled.sort(compareVersions)).toEqual(sorted);
    expect(compareVersions('1.0.0+a', '1.0.0+b')).toBe(0);
  });
});
