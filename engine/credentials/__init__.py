"""Registry credentials: the ``docker-credential-portside`` helper, the keyring, docker config.

Modules: :mod:`~engine.credentials.helper` (the credential-helper protocol, kept fast),
:mod:`~engine.credentials.logins` (store/erase/list for the helper and the app, under
:mod:`~engine.credentials.locks`), :mod:`~engine.credentials.store` (the API the app uses,
``auth_for``), :mod:`~engine.credentials.dockerconfig` (``credsStore`` in the docker CLI's
config.json, numbers kept by :mod:`~engine.credentials.jsonraw`),
:mod:`~engine.credentials.install` (putting the helper on PATH),
:mod:`~engine.credentials.toggle` (the docker CLI switch the Accounts view and
``portside credentials`` (:mod:`~engine.credentials.cli`) both call).
Nothing is imported here on purpose: the helper's start-up time depends on it.
"""
