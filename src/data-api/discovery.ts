import { GROUP, GROUP_VERSION, VERSION } from './objects.js';
import { RESOURCES } from './resources.js';

const groupVersion = { groupVersion: GROUP_VERSION, version: VERSION };

export function apiGroup() {
  return { kind: 'APIGroup', apiVersion: 'v1', name: GROUP, versions: [groupVersion], preferredVersion: groupVersion };
}

export function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup()] };
}

/** What `kubectl api-resources` lists; subresources are what RBAC rules name (pairs/unmasked, exportfiles/download). */
export function apiResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: RESOURCES.flatMap((r) => [
      { name: r.plural, singularName: r.singular, namespaced: true, kind: r.kind, verbs: ['get', 'list', 'watch'], shortNames: r.shortNames },
      ...r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: true, kind: r.kind, verbs: ['get'] })),
    ]),
  };
}
