import type { ExportTarget } from './exporttarget.js';
import type { SyncFlow } from './syncflow.js';
import { fileNameTemplateProblem } from './validate-helpers.js';
import type { ValidationError } from './validation-error.js';

/** Semantic checks of an ExportTarget that passed the schema check. */
export function validateExportTarget(target: ExportTarget): ValidationError[] {
  const errors: ValidationError[] = [];
  const { spec } = target;
  if (spec.protocol === 'FTP' && spec.insecure !== true) {
    errors.push({ path: 'spec.insecure', message: 'plain FTP sends credentials in clear text; set insecure: true to allow it' });
  }
  if (spec.sftp && spec.protocol !== 'SFTP') {
    errors.push({ path: 'spec.sftp', message: `only used with protocol SFTP, not ${spec.protocol}` });
  }
  if (spec.ftps && spec.protocol !== 'FTPS' && spec.protocol !== 'FTPS-Implicit') {
    errors.push({ path: 'spec.ftps', message: `only used with protocols FTPS and FTPS-Implicit, not ${spec.protocol}` });
  }
  if (spec.protocol === 'SFTP' && !spec.sftp?.hostKey && !spec.sftp?.hostKeyFingerprint && spec.insecure !== true) {
    errors.push({
      path: 'spec.sftp',
      message: 'pin the server host key with sftp.hostKey or sftp.hostKeyFingerprint, or set insecure: true',
    });
  }
  if (spec.fileNameTemplate) {
    const problem = fileNameTemplateProblem(spec.fileNameTemplate);
    if (problem) errors.push({ path: 'spec.fileNameTemplate', message: problem });
  }
  return errors;
}

/** An export names an ExportTarget declared read-only (a partner's location files sources read from). */
export function exportsToReadOnlyTargets(flow: SyncFlow, targets: readonly ExportTarget[]): ValidationError[] {
  return (flow.spec.target.export?.targets ?? []).flatMap((ref, i) =>
    targets.some((t) => t.metadata.name === ref.name && t.spec.access === 'ReadOnly')
      ? [{ path: `spec.target.export.targets[${i}]`, message: `ExportTarget "${ref.name}" is read-only (spec.access: ReadOnly): an export cannot write to it` }]
      : [],
  );
}
