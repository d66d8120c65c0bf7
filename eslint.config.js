import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'src/web/public/vendor/**', 'src/web/public/app.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
        setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', Buffer: 'readonly',
        document: 'readonly', window: 'readonly', WebSocket: 'readonly', fetch: 'readonly',
        performance: 'readonly', requestAnimationFrame: 'readonly', AbortController: 'readonly',
        location: 'readonly', HTMLElement: 'readonly', setImmediate: 'readonly', Event: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The front panel runs in the browser.
    files: ['src/web/page/**/*.js'],
    languageOptions: {
      globals: {
        getComputedStyle: 'readonly', localStorage: 'readonly', history: 'readonly', queueMicrotask: 'readonly',
      },
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts'],
    rules: { 'no-console': 'error' },
  },
);
