// Prepended to the app's loader (scripts/externalize-loader.mjs). Until the app has arrived, the
// static sign-in form (index.html, #mdt-shell-form) sends nothing; a press of its button, or of
// Enter in one of its fields, is kept as a request to sign in, which the app carries out with
// what was typed as soon as it takes over the page (src/web/app.rs, take_static_shell).
{
  const form = document.getElementById('mdt-shell-form');
  if (form) {
    const button = form.querySelector('button');
    const askToSignIn = (event) => {
      event.preventDefault();
      form.dataset.signInRequested = 'true';
      button.disabled = true;
      button.textContent = 'Signing in…';
    };
    button.addEventListener('click', askToSignIn);
    form.addEventListener('submit', askToSignIn);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && event.target instanceof HTMLInputElement) askToSignIn(event);
    });
  }
}
