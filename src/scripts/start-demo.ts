import { DEMO_PROFILE } from '../config/demo-profile';

// `npm run start:demo`: the API on the demo profile; a variable set in the environment (or .env)
// still wins over the profile's value.
for (const [key, value] of Object.entries(DEMO_PROFILE)) process.env[key] ??= value;
console.warn(
  `Demo profile: ${Object.entries(DEMO_PROFILE)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`,
);
void import('../main');
