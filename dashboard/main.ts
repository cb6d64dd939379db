/** The dashboard's entry: the theme, uPlot's styles and the app, mounted on the page. */
import { mount } from 'svelte';
import 'uplot/dist/uPlot.min.css';
import App from './components/App.svelte';
import './styles/theme.css';

mount(App, {
  target: document.getElementById('app') ?? document.body,
  props: { baseUrl: window.location.origin, storage: window.sessionStorage },
});
