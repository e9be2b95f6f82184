import type { Family } from './family.js';

const HEADER = `# Every setting the gateway reads, with its default. A bad value stops start-up with a message
# naming the variable. Copy to .env only for your own shell; the gateway reads the environment.
# Generated from src/config/settings (npm run settings:example): edit the declaration, not this file.`;

/** `.env.example`: each family under its heading, each setting's meaning above `NAME=default`. */
export function renderEnvExample(families: readonly Family<unknown>[]): string {
  const sections = families.map((family) =>
    [
      `# --- ${family.title} ---`,
      ...family.settings.flatMap((setting) => [
        ...setting.meaning.split('\n').map((line) => `# ${line}`),
        `${setting.name}=${setting.example}`,
      ]),
    ].join('\n'),
  );
  return `${[HEADER, ...sections].join('\n\n')}\n`;
}
