export { createGate, type Gate, type ReadContext } from './gate.ts';
export { NOT_FULL_RECORD } from './notices.ts';
