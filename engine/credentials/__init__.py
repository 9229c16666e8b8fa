"""Registry credentials: the ``docker-credential-portside`` helper, the keyring, docker config.

Modules: :mod:`~engine.credentials.helper` (the credential-helper protocol, kept fast),
:mod:`~engine.credentials.store` (the API the app uses, ``auth_for``),
:mod:`~engine.credentials.dockerconfig` (``credsStore`` in the docker CLI's config.json),
:mod:`~engine.credentials.install` (putting the helper on PATH).
Nothing is imported here on purpose: the helper's start-up time depends on it.
"""
