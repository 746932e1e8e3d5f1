"""STAND-IN for the Open vSwitch agent's side of port binding (neutron's ML2 openvswitch driver
binds a port only on a host whose OVS agent reports alive, and no OVS dataplane runs here).

Binds every port of a flat, local or VXLAN segment on any host as the openvswitch driver would
(vif_type 'ovs', neutron/plugins/ml2/drivers/openvswitch/mech_driver/mech_openvswitch.py), and
marks it ACTIVE at once, as the agent would once it had wired the port. Loaded by neutron's ML2
as the mechanism driver 'osa_bind_without_agent' (entry point in the .dist-info beside it).
"""
from neutron_lib.api.definitions import portbindings
from neutron_lib import constants
from neutron_lib.plugins.ml2 import api


class BindWithoutAgent(api.MechanismDriver):
    def initialize(self):
        pass

    def bind_port(self, context):
        for segment in context.segments_to_bind:
            if segment[api.NETWORK_TYPE] in ('flat', 'local', 'vxlan'):
                context.set_binding(
                    segment[api.ID],
                    portbindings.VIF_TYPE_OVS,
                    {portbindings.CAP_PORT_FILTER: True,
                     portbindings.OVS_HYBRID_PLUG: False},
                    status=constants.PORT_STATUS_ACTIVE)
                return
