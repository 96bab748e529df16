from tests.scheduling import helpers

clock = helpers.clock
front_desk = helpers.front_desk
manager = helpers.manager
sysadmin = helpers.sysadmin
other_clinic = helpers.other_clinic
mailed_patient = helpers.mailed_patient
