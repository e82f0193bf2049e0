// The static sign-in form's handling (index.html, #mdt-shell-form), loaded in the page's head
// before anything is painted (scripts/static-shell.mjs names it by its hash and links it), so no
// press can come before it. Until the app has arrived the form sends nothing: a press of its
// button, or of Enter in one of its fields, is kept as a request to sign in, which the app
// carries out with what was typed as soon as it takes over the page (src/web/app.rs,
// take_static_shell). Listening on the document: the form is not parsed yet when this runs.
{
  const shellForm = (target) => (target instanceof Element ? target.closest('#mdt-shell-form') : null);
  const askToSignIn = (event, form) => {
    event.preventDefault();
    if (form.dataset.signInRequested) return;
    form.dataset.signInRequested = 'true';
    const button = form.querySelector('button');
    button.disabled = true;
    button.textContent = 'Signing in…';
  };
  document.addEventListener('click', (event) => {
    const form = shellForm(event.target);
    if (form && event.target.closest('button')) askToSignIn(event, form);
  }, true);
  document.addEventListener('keydown', (event) => {
    const form = shellForm(event.target);
    if (form && event.key === 'Enter' && event.target instanceof HTMLInputElement) askToSignIn(event, form);
  }, true);
  document.addEventListener('submit', (event) => {
    const form = shellForm(event.target);
    if (form) askToSignIn(event, form);
  }, true);
}
