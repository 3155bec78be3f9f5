export { generateAssociation, createTargetSchema, DEFAULT_SEED, type GenerateOptions, type GenerateSummary } from './generate.js';
export { applyDemoChanges, type ChangeOptions, type ChangeSummary, type TableChanges } from './changes.js';
export { planDataset, BAD_ROWS, type DatasetPlan } from './plan.js';
export { associationExampleDir } from './schema-files.js';
