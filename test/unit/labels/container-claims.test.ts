import { describe, expect, it } from 'vitest';
import { containerClaims } from '../../../src/labels/index.ts';
import { container } from './containers.ts';

describe('containerClaims: what a stopped or rejected container may hold closed', () => {
  const reading = { prefix: 'iap', signInHost: 'auth.example' };

  it('holds the addresses of the deployer\'s own labels', () => {
    const c = container({ labels: { 'iap.from': 'https://app.example', 'iap.allow': 'not a policy!' }, imageLabels: {} });
    expect(containerClaims(c, reading)).toEqual([{ routeName: 'default', hosts: ['app.example'], path: '/' }]);
  });

  it('closes nothing for labels that come from the image', () => {
    const labels = { 'iap.from': 'https://victim.example', 'iap.allow': 'not a policy!' };
    const c = container({ labels, imageLabels: { ...labels } });
    expect(containerClaims(c, reading)).toEqual([]);
    expect(containerClaims(c, { ...reading, trustImageLabels: true })).toEqual([{ routeName: 'default', hosts: ['victim.example'], path: '/' }]);
  });

  it('never closes the sign-in host, an IP literal or localhost', () => {
    const c = container({
      labels: { 'iap.from': 'https://auth.example, https://127.0.0.1, https://localhost, https://app.example', 'iap.allow': '!' },
      imageLabels: {},
    });
    expect(containerClaims(c, reading)).toEqual([{ routeName: 'default', hosts: ['app.example'], path: '/' }]);
    const only = container({ labels: { 'iap.from': 'https://auth.example', 'iap.allow': '!' }, imageLabels: {} });
    expect(containerClaims(only, reading)).toEqual([]);
  });

  it('holds every address when the image labels are unknown: closing can only keep people out', () => {
    const c = container({ labels: { 'iap.from': 'https://app.example' }, imageLabels: null });
    expect(containerClaims(c, reading)).toEqual([{ routeName: 'default', hosts: ['app.example'], path: '/' }]);
  });
});
