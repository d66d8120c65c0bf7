// Preact with htm: tagged templates instead of JSX, so the page needs no compiler of its own.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
