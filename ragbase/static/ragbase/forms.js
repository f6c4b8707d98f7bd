// A form with data-confirm="question" asks before it is submitted. Behaviour lives in static
// files, never in on*= attributes or inline <script>: the Content-Security-Policy allows
// script-src 'self' only (docs/deploy.md).
document.addEventListener("submit", (event) => {
  const question = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
