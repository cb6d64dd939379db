// Lets plain TS files import `.svelte` components (the declaration ships with svelte).
/// <reference types="svelte" />

// Style sheets imported for esbuild to bundle into app.css.
declare module '*.css';
