/** Which flows a list covers: one flow id, every flow of a namespace, or a flow name in any namespace. */
export interface FlowScope {
  /** `namespace/` prefix of flow ids; absent lists every namespace. */
  namespace?: string;
  flow?: string;
  /** A flow's name in any namespace (lists across namespaces). */
  flowName?: string;
}

/** A WHERE clause built from optional filters, with its values as bind parameters ($1, $2, ...). */
export class Where {
  readonly clauses: string[];
  readonly params: unknown[] = [];

  constructor(...always: string[]) {
    this.clauses = [...always];
  }

  /** Adds a value as the next bind parameter and returns its placeholder. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  /** The flow filters of a list, on `column` (the flow id column, possibly qualified). */
  flows(scope: FlowScope, column = 'flow'): void {
    if (scope.flow !== undefined) this.add(`${column} = ${this.param(scope.flow)}`);
    else if (scope.namespace !== undefined) this.add(`starts_with(${column}, ${this.param(`${scope.namespace}/`)})`);
    if (scope.flowName !== undefined) this.add(`substr(${column}, strpos(${column}, '/') + 1) = ${this.param(scope.flowName)}`);
  }

  /** `WHERE ...`, or '' without clauses. */
  toString(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}
