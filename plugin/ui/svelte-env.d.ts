// Lets plain TS files import `.svelte` components (the declaration ships with svelte).
/// <reference types="svelte" />
