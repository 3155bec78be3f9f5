import type { ExportTarget } from './exporttarget.js';
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
