import { writeFileSync } from 'node:fs';
import { printSortedSchema } from '../src/graphql/schema/index.js';

/** Writes schema/schema.graphql from the Pothos schema; `npm run codegen` calls it. */
writeFileSync(new URL('../schema/schema.graphql', import.meta.url), printSortedSchema());
