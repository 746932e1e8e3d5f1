"""STAND-IN for the placement snap's uwsgi entry: placement's own WSGI application, configured
from the arguments uwsgi's --pyargv gives (the snap's file and its conf.d directory), where
placement.wsgi.init_application reads only one file named by OS_PLACEMENT_CONFIG_DIR."""
import sys

from placement import wsgi

_parse_args = wsgi._parse_args


def _parse_with_argv(config, argv, default_config_files):
    return _parse_args(config, ['placement-api'] + sys.argv[1:], default_config_files)


wsgi._parse_args = _parse_with_argv
application = wsgi.init_application()
