import { createHash, randomBytes } from 'node:crypto';

export const randomSha = () => createHash('sha256').update(randomBytes(16)).digest('hex');

export const assetBody = (over: Record<string, unknown> = {}) => ({
  sha256: randomSha(),
  title: 'Stairwell, night, key frame 3',
  mediaType: 'image/png',
  creator: 'R. Ortiz',
  production: 'dear-upstairs-neighbors',
  rightsHolder: 'Ortiz Studio',
  ...over,
});

export const licenseBody = (over: Record<string, unknown> = {}) => ({
  licensor: 'Ortiz Studio',
  licensee: 'Upstairs Films',
  vendors: ['acme-vfx'],
  grants: { training: 'allowed', derivatives: 'requiresApproval', commercial: 'notAllowed' },
  territories: ['US', 'CA'],
  media: ['theatrical', 'streaming'],
  term: { start: '2026-01-01T00:00:00Z', end: '2028-12-31T23:59:59Z' },
  exclusivity: false,
  attribution: 'Concept art by R. Ortiz',
  contractRef: { id: 'C-17', sha256: randomSha() },
  ...over,
});
