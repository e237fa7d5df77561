pub fn sfu_input(_d:&[u8]){}
