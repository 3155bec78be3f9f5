/**
 * What the controller and the sync Job pods do against the API server (src/controller, `ferry job`),
 * and a few things they must never be able to do. The unit test checks the rendered Roles hold exactly
 * these verbs; the Helm install e2e test asks the real API server with `kubectl auth can-i`.
 */
export interface Access {
  verb: string;
  /** kubectl auth can-i resource form: resource[.group][/subresource] */
  resource: string;
}

export const CONTROLLER_ALLOWED: Access[] = [
  ...['get', 'list', 'watch'].flatMap((verb) =>
    ['syncflows.ferry.dev', 'syncjobs.ferry.dev', 'exporttargets.ferry.dev'].map((resource) => ({ verb, resource })),
  ),
  { verb: 'create', resource: 'syncjobs.ferry.dev' },
  { verb: 'delete', resource: 'syncjobs.ferry.dev' },
  ...['update', 'patch'].flatMap((verb) =>
    ['syncflows.ferry.dev/status', 'syncjobs.ferry.dev/status', 'exporttargets.ferry.dev/status'].map((resource) => ({ verb, resource })),
  ),
  ...['create', 'get', 'list', 'watch', 'delete'].map((verb) => ({ verb, resource: 'jobs.batch' })),
  ...['create', 'get', 'update'].map((verb) => ({ verb, resource: 'configmaps' })),
  { verb: 'get', resource: 'secrets' },
  // Each namespace's state database credentials Secret (update is limited to its name, so not listed here).
  { verb: 'create', resource: 'secrets' },
  { verb: 'create', resource: 'events' },
  { verb: 'create', resource: 'events.events.k8s.io' },
];

export const CONTROLLER_FORBIDDEN: Access[] = [
  { verb: 'list', resource: 'secrets' },
  { verb: 'watch', resource: 'secrets' },
  { verb: 'update', resource: 'secrets' },
  { verb: 'update', resource: 'syncflows.ferry.dev' },
  { verb: 'delete', resource: 'syncflows.ferry.dev' },
  { verb: 'create', resource: 'exporttargets.ferry.dev' },
  { verb: 'update', resource: 'jobs.batch' },
  { verb: 'delete', resource: 'configmaps' },
  { verb: 'create', resource: 'pods' },
  { verb: 'create', resource: 'pods/exec' },
  { verb: 'create', resource: 'rolebindings.rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'customresourcedefinitions.apiextensions.k8s.io' },
];

/** Leader election, in the release namespace only. */
export const LEASE_ALLOWED: Access[] = [
  { verb: 'create', resource: 'leases.coordination.k8s.io' },
  { verb: 'get', resource: 'leases.coordination.k8s.io/LEASE' },
  { verb: 'update', resource: 'leases.coordination.k8s.io/LEASE' },
];
export const LEASE_FORBIDDEN: Access[] = [
  { verb: 'delete', resource: 'leases.coordination.k8s.io/LEASE' },
  { verb: 'update', resource: 'leases.coordination.k8s.io/someone-elses-lease' },
];

export const JOB_ALLOWED: Access[] = [
  { verb: 'get', resource: 'syncjobs.ferry.dev' },
  { verb: 'get', resource: 'syncflows.ferry.dev' },
  { verb: 'get', resource: 'exporttargets.ferry.dev' },
];
export const JOB_FORBIDDEN: Access[] = [
  { verb: 'list', resource: 'syncjobs.ferry.dev' },
  { verb: 'update', resource: 'syncjobs.ferry.dev/status' },
  { verb: 'list', resource: 'exporttargets.ferry.dev' },
  { verb: 'get', resource: 'secrets' },
  { verb: 'create', resource: 'jobs.batch' },
];

/** The data API (data.ferry.dev) in ferry-view: read pairs (masked), runs with reports, export file metadata, the files a files source recorded. */
export const DATA_VIEW_ALLOWED: Access[] = [
  ...['get', 'list', 'watch'].flatMap((verb) => ['pairs', 'runs', 'exportfiles', 'sourcefiles'].map((name) => ({ verb, resource: `${name}.data.ferry.dev` }))),
  { verb: 'get', resource: 'runs.data.ferry.dev/report' },
];
/** ferry-edit adds the contents of export files and the sensitive values; nothing else gets them. */
export const DATA_EDIT_ALLOWED: Access[] = [
  { verb: 'get', resource: 'exportfiles.data.ferry.dev/download' },
  { verb: 'get', resource: 'pairs.data.ferry.dev/unmasked' },
];
