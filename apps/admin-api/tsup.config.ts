import { sharedTsupConfig } from '../../tsup.shared.ts';

export default sharedTsupConfig({
  entry: ['src/main.ts'],
  dts: false,
  banner: { js: '#!/usr/bin/env node' },
});
