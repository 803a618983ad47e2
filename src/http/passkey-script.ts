import { createHash } from 'node:crypto';

/**
 * The few lines of browser script a passkey ceremony needs, shared by the sign-in page and the
 * self-service page: WebAuthn takes and returns binary buffers, the server speaks base64url
 * JSON. Served inline and allowed by its hash alone (`script-src 'sha256-…'`), so the pages
 * keep a policy that runs no other script. Without JavaScript or WebAuthn the buttons stay
 * hidden and the password form works as before.
 *
 * Markup it expects: a `<button data-passkey="get|create" data-options="…JSON…">` inside a
 * form with a hidden `<input name="credential">`; for `create`, `data-options-url` instead of
 * `data-options`, fetched with a POST of the form's fields (CSRF token and current password).
 */
export const PASSKEY_SCRIPT = `(function(){
function bin(s){s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';var r=atob(s),a=new Uint8Array(r.length);for(var i=0;i<r.length;i++)a[i]=r.charCodeAt(i);return a.buffer}
function txt(b){var a=new Uint8Array(b),s='';for(var i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'')}
function list(l){return (l||[]).map(function(c){return {type:'public-key',id:bin(c.id),transports:c.transports}})}
function show(f,m){var p=f.querySelector('.passkey-error');if(p){p.textContent=m;p.hidden=false}}
function out(c){var r=c.response,o={id:c.id,rawId:txt(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults(),authenticatorAttachment:c.authenticatorAttachment||undefined,response:{clientDataJSON:txt(r.clientDataJSON)}};
if(r.attestationObject){o.response.attestationObject=txt(r.attestationObject);o.response.transports=r.getTransports?r.getTransports():[]}
else{o.response.authenticatorData=txt(r.authenticatorData);o.response.signature=txt(r.signature);if(r.userHandle)o.response.userHandle=txt(r.userHandle)}return o}
function get(o){return navigator.credentials.get({publicKey:{challenge:bin(o.challenge),rpId:o.rpId,timeout:o.timeout,userVerification:o.userVerification,allowCredentials:list(o.allowCredentials)}})}
function create(o){return navigator.credentials.create({publicKey:{challenge:bin(o.challenge),rp:o.rp,user:{id:bin(o.user.id),name:o.user.name,displayName:o.user.displayName},pubKeyCredParams:o.pubKeyCredParams,timeout:o.timeout,attestation:o.attestation,excludeCredentials:list(o.excludeCredentials),authenticatorSelection:o.authenticatorSelection}})}
if(!window.PublicKeyCredential||!navigator.credentials)return;
document.querySelectorAll('button[data-passkey]').forEach(function(b){var f=b.form;b.hidden=false;
b.addEventListener('click',function(ev){ev.preventDefault();
var kind=b.getAttribute('data-passkey'),url=b.getAttribute('data-options-url');
var opts=url?fetch(url,{method:'POST',credentials:'same-origin',headers:{'content-type':'application/x-www-form-urlencoded'},body:new URLSearchParams(new FormData(f))}).then(function(r){return r.json().then(function(j){if(!r.ok)throw new Error(j.message||'refused');return j})}):Promise.resolve(JSON.parse(b.getAttribute('data-options')));
opts.then(function(o){return kind==='create'?create(o):get(o)}).then(function(c){f.querySelector('input[name=credential]').value=JSON.stringify(out(c));f.submit()})
.catch(function(e){show(f,'The passkey was not used: '+(e&&e.message?e.message:e))})})})})();`;

export const PASSKEY_SCRIPT_HASH = `sha256-${createHash('sha256').update(PASSKEY_SCRIPT).digest('base64')}`;

/** A page's CSP with this script allowed (and, for the options request, this origin). */
export function withPasskeyScript(csp: string): string {
  return csp.replace("default-src 'none';", `default-src 'none'; script-src '${PASSKEY_SCRIPT_HASH}'; connect-src 'self';`);
}
